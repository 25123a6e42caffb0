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
        #expect(!(SQLState.connectionFailure ~= SQLState.connectionException))
        #expect(!(SQLState.connectionFailure ~= Optional<SQLState>.none))
        #expect(SQLState.connectionException ~= Optional(SQLState.connectionFailure))
    }

    @Test func classCodeAndText() {
        let state: SQLState = "57P01"
        #expect(state.class == "57")
        #expect(state.class.isClass)
        #expect(!state.isClass)
        #expect(state.code == "57P01")
        #expect(state.description == "57P01")
        #expect(SQLState.operatorIntervention.class == .operatorIntervention)
        #expect(SQLState.operatorIntervention.code == "57")
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
        ]
        for (state, code) in pairs {
            #expect(state.code == code)
        }
    }
}
