import PostgresPolicy
import Testing

@Suite("SQLState")
struct SQLStateTests {
    @Test func classPatternMatchesEveryCodeInTheClassAndNothingElse() {
        func name(of state: SQLState) -> String {
            switch state {
            case .adminShutdown: "admin shutdown"
            case "08": "connection exception"
            case "57": "operator intervention"
            default: "other"
            }
        }
        #expect(name(of: "08006") == "connection exception")
        #expect(name(of: "08P01") == "connection exception")
        #expect(name(of: "57P01") == "admin shutdown")
        #expect(name(of: "57014") == "operator intervention")
        #expect(name(of: "40001") == "other")
        #expect(name(of: "80006") == "other")
    }

    @Test func codePatternMatchesOnlyItself() {
        #expect(SQLState.connectionFailure ~= "08006")
        #expect(!(SQLState.connectionFailure ~= "08007"))
        #expect(!(SQLState.connectionFailure ~= SQLState.Class.connectionException))
        #expect(!(SQLState.connectionFailure ~= Optional<SQLState>.none))
        #expect(SQLState.Class.connectionException ~= Optional(SQLState.connectionFailure))
    }

    @Test func classCodeAndText() {
        let state: SQLState = "57P01"
        #expect(state.class == "57")
        #expect(state.class.isClass)
        #expect(!state.isClass)
        #expect(state.code == "57P01")
        #expect(state.description == "57P01")
        #expect(SQLState.adminShutdown.class == SQLState.Class.operatorIntervention)
        #expect(SQLState.Class.operatorIntervention.code == "57")
    }

    @Test(arguments: [
        ("08006", "08006"), ("57p01", "57P01"), ("53", "53"), ("0a000", "0A000"),
    ])
    func parsingAccepts2Or5DigitsAndUppercaseLetters(text: String, code: String) {
        #expect(SQLState(text)?.code == code)
    }

    @Test(arguments: ["", "0", "080", "0800", "080060", "08-06", "08 06", "0800é"])
    func parsingRejectsAnythingElse(text: String) {
        #expect(SQLState(text) == nil)
    }

    @Test func wellKnownConstantsCarryTheirCodes() {
        let pairs: [(SQLState, String)] = [
            (.adminShutdown, "57P01"), (.crashShutdown, "57P02"), (.cannotConnectNow, "57P03"),
            (.tooManyConnections, "53300"), (.readOnlySQLTransaction, "25006"), (.serializationFailure, "40001"),
            (.deadlockDetected, "40P01"), (.lockNotAvailable, "55P03"), (.featureNotSupported, "0A000"),
            (.queryCanceled, "57014"), (.protocolViolation, "08P01"), (.invalidPassword, "28P01"),
            (.invalidCatalogName, "3D000"), (.idleInTransactionSessionTimeout, "25P03"), (.idleSessionTimeout, "57P05"),
            (.uniqueViolation, "23505"), (.foreignKeyViolation, "23503"), (.notNullViolation, "23502"),
            (.checkViolation, "23514"), (.exclusionViolation, "23P01"), (.restrictViolation, "23001"),
            (.syntaxError, "42601"), (.undefinedTable, "42P01"), (.undefinedColumn, "42703"),
            (.insufficientPrivilege, "42501"), (.inFailedSQLTransaction, "25P02"), (.invalidTextRepresentation, "22P02"),
        ]
        for (state, code) in pairs {
            #expect(state.code == code)
        }
    }

    /// Named classes are classes, and match their codes.
    @Test(arguments: [
        (SQLState.Class.connectionException, SQLState.connectionFailure),
        (SQLState.Class.dataException, SQLState.invalidTextRepresentation),
        (SQLState.Class.integrityConstraintViolation, SQLState.uniqueViolation),
        (SQLState.Class.invalidTransactionState, SQLState.readOnlySQLTransaction),
        (SQLState.Class.invalidAuthorizationSpecification, SQLState.invalidPassword),
        (SQLState.Class.transactionRollback, SQLState.deadlockDetected),
        (SQLState.Class.syntaxErrorOrAccessRuleViolation, SQLState.undefinedTable),
        (SQLState.Class.insufficientResources, SQLState.tooManyConnections),
        (SQLState.Class.objectNotInPrerequisiteState, SQLState.lockNotAvailable),
        (SQLState.Class.operatorIntervention, SQLState.adminShutdown),
    ])
    func namedClassesAreClassesAndMatchTheirCodes(classState: SQLState, member: SQLState) {
        #expect(classState.isClass)
        #expect(classState ~= member)
        #expect(member.class == classState)
        #expect(classState != member)
    }

    @Test func aLiteralThatIsNoCodePrintsItselfAndMatchesNoCodeWithoutTrapping() {
        let missing: SQLState? = nil
        #expect("\(missing ?? "none")" == "none")
        let typo: SQLState = "2350"
        #expect(!typo.isClass)
        #expect(!(typo ~= SQLState.uniqueViolation))
        #expect(!(SQLState.Class.integrityConstraintViolation ~= typo))
        #expect(typo.class == typo)
        #expect(typo == "2350")
        #expect(typo != "2351")
        #expect(("a literal far too long" as SQLState).code == "a litera")
    }
}

/// An error of this module's tests that carries a SQLSTATE, as the client's errors do.
private struct ReportedFailure: SQLStateReporting {
    var sqlState: SQLState?
}

/// An error that carries none.
private struct OtherFailure: Error {}

@Suite("SQLState in catch")
struct SQLStateCatchTests {
    /// Which clause catches `error`, thrown as `any Error`.
    private func clause(catching error: any Error) -> String {
        do {
            throw error
        } catch SQLState.uniqueViolation {
            return "unique violation"
        } catch SQLState.Class.integrityConstraintViolation {
            return "another constraint"
        } catch SQLState.Class.transactionRollback {
            return "rolled back"
        } catch {
            return "other"
        }
    }

    @Test func aCodeOrAClassMatchesAnErrorThatCarriesASQLState() {
        #expect(clause(catching: ReportedFailure(sqlState: "23505")) == "unique violation")
        #expect(clause(catching: ReportedFailure(sqlState: .foreignKeyViolation)) == "another constraint")
        #expect(clause(catching: ReportedFailure(sqlState: .serializationFailure)) == "rolled back")
    }

    @Test func anotherCodeNoSQLStateOrAnErrorThatCarriesNoneDoesNotMatch() {
        #expect(clause(catching: ReportedFailure(sqlState: .syntaxError)) == "other")
        #expect(clause(catching: ReportedFailure(sqlState: nil)) == "other")
        #expect(clause(catching: OtherFailure()) == "other")
        #expect(!(SQLState.uniqueViolation ~= OtherFailure()))
    }
}
