import PostgresPolicy
import Testing

@Suite("Classification")
struct ClassificationTests {
    @Test(arguments: ["XX000", "P0001", "99999", "58030", "08004", "40002"])
    func unknownSQLSTATEIsPermanent(code: String) throws {
        let state = try #require(SQLState(code))
        for usable in [true, false] {
            for phase in [FailureFacts.Phase.connecting, .notSent, .sent, .commitInFlight] {
                let facts = FailureFacts(sqlState: state, severity: .error, message: "unheard of", phase: phase,
                                         isConnectionUsable: usable)
                #expect(facts.errorClass == .permanent, "\(phase), usable: \(usable)")
            }
        }
    }

    @Test(arguments: ["28000", "28P01", "3D000", "42601", "42P01", "22P02", "23505"])
    func wholeClassesOfPermanentCodes(code: String) throws {
        let state: SQLState = try #require(SQLState(code))
        let facts = FailureFacts(sqlState: state, severity: .error, message: "x",
                                 phase: .sent, isConnectionUsable: true)
        #expect(facts.errorClass == .permanent)
    }

    @Test(arguments: ["53000", "53100", "53200", "53300", "53400"])
    func everyCodeOfClass53IsAResourceLimit(code: String) throws {
        let state: SQLState = try #require(SQLState(code))
        let facts = FailureFacts(sqlState: state, severity: .fatal, message: "x",
                                 phase: .connecting, isConnectionUsable: false)
        #expect(facts.errorClass == .resourceLimit)
    }

    @Test func unrecognizedMessageWithoutSQLSTATEWhileConnectingIsPermanent() {
        let facts = FailureFacts(message: "invalid connection option \"foo\"", phase: .connecting, isConnectionUsable: false)
        #expect(facts.errorClass == .permanent)
    }

    @Test func unrecognizedMessageOnALostConnectionMeansTheServerWentAway() {
        let facts = FailureFacts(message: "something new", phase: .sent, isConnectionUsable: false)
        #expect(facts.errorClass == .serverWentAway)
        #expect(facts.mayHaveBeenApplied)
    }

    /// A network timeout after connecting means a lost connection, while connecting an unreachable host.
    @Test func networkTimeoutAfterConnectingMeansALostConnection() {
        let message = "could not connect: Connection timed out"
        #expect(FailureFacts(message: message, phase: .connecting, isConnectionUsable: false).errorClass == .unreachable)
        #expect(FailureFacts(message: message, phase: .sent, isConnectionUsable: false).errorClass == .serverWentAway)
    }

    /// A notice's SQLSTATE never overrides an error: a WARNING 53300 on a lost connection is not a resource limit.
    @Test func noticesSQLSTATENeverOverridesAnError() {
        let facts = FailureFacts(sqlState: .tooManyConnections, severity: .warning, message: "",
                                 phase: .sent, isConnectionUsable: false)
        #expect(facts.errorClass == .serverWentAway)
    }

    @Test func kindAConnectionLayerSetsWinsOverTheMessage() {
        let message = "server closed the connection unexpectedly"
        func facts(_ kind: FailureFacts.Kind) -> FailureFacts {
            FailureFacts(message: message, phase: .sent, isConnectionUsable: false, kind: kind)
        }
        #expect(facts(.reported).errorClass == .serverWentAway)
        #expect(facts(.cancelled).errorClass == .cancelled)
        #expect(facts(.deadlineExpired).errorClass == .deadline)
        #expect(facts(.connectDeadlineExpired).errorClass == .unreachable)
        #expect(facts(.commitRolledBack).errorClass == .permanent)
        #expect(facts(.invalidParameter).errorClass == .permanent)
        #expect(facts(.credentialUnavailable).errorClass == .credentialUnavailable)
        #expect(facts(.credentialRefused).errorClass == .permanent)
    }

    /// A credential provider's failure happens before anything is sent: it can never have been applied.
    @Test func aCredentialProvidersFailureWasNeverApplied() {
        for kind in [FailureFacts.Kind.credentialUnavailable, .credentialRefused] {
            let facts = FailureFacts(message: "the credential provider failed: URLError", phase: .connecting,
                                     isConnectionUsable: false, kind: kind)
            #expect(!facts.mayHaveBeenApplied)
            #expect(!facts.errorClass.spendsRetryToken)
        }
    }

    @Test func sqlState0A000IsAStaleStatementOnlyForTheClientsOwnCachedPlan() {
        func facts(_ message: String, cached: Bool = true) -> FailureFacts {
            FailureFacts(sqlState: .featureNotSupported, severity: .error, message: message,
                         phase: .sent, isConnectionUsable: true, isCachedStatement: cached)
        }
        #expect(facts("cached plan must not change result type").errorClass == .staleStatement)
        #expect(facts("cached plan must not change result type", cached: false).errorClass == .permanent)
        #expect(facts("FOR UPDATE is not allowed with UNION").errorClass == .permanent)
    }

    @Test func sqlState26000IsAStaleStatementOnlyForTheClientsOwnCachedStatement() {
        func facts(cached: Bool) -> FailureFacts {
            FailureFacts(sqlState: .invalidSQLStatementName, severity: .error,
                         message: #"prepared statement "nope" does not exist"#,
                         phase: .sent, isConnectionUsable: true, isCachedStatement: cached)
        }
        #expect(facts(cached: true).errorClass == .staleStatement)
        // An app's own `EXECUTE nope`: a typo, not a cache out of date.
        #expect(facts(cached: false).errorClass == .permanent)
    }

    @Test(arguments: [
        (FailureFacts(message: "server closed the connection unexpectedly", phase: .notSent, isConnectionUsable: false), false),
        (FailureFacts(message: "Connection refused", phase: .connecting, isConnectionUsable: false), false),
        (FailureFacts(message: "server closed the connection unexpectedly", phase: .sent, isConnectionUsable: false), true),
        (FailureFacts(message: "server closed the connection unexpectedly", phase: .commitInFlight,
                      isConnectionUsable: false), true),
        // A FATAL that answers COMMIT came before the commit (one after it follows COMMIT's answer, a success).
        (FailureFacts(sqlState: .adminShutdown, severity: .fatal, message: "terminating connection",
                      phase: .commitInFlight, isConnectionUsable: false), false),
        // A FATAL after the statement's answer (weighed as a WARNING): the implicit commit may have happened.
        (FailureFacts(sqlState: .adminShutdown, severity: .warning, message: "terminating connection",
                      phase: .sent, isConnectionUsable: false), true),
        (FailureFacts(sqlState: .adminShutdown, severity: .fatal, message: "terminating connection",
                      phase: .sent, isConnectionUsable: false), false),
        (FailureFacts(sqlState: .adminShutdown, severity: .warning, message: "server closed the connection unexpectedly",
                      phase: .commitInFlight, isConnectionUsable: false), true),
        (FailureFacts(sqlState: .serializationFailure, severity: .error, message: "could not serialize",
                      phase: .commitInFlight, isConnectionUsable: true), false),
        (FailureFacts(sqlState: .crashShutdown, severity: .panic, message: "x",
                      phase: .commitInFlight, isConnectionUsable: false), true),
        (FailureFacts(sqlState: .protocolViolation, severity: .fatal, message: "server conn crashed?",
                      phase: .sent, isConnectionUsable: false), true),
        (FailureFacts(sqlState: .protocolViolation, severity: .error, message: "query_wait_timeout",
                      phase: .sent, isConnectionUsable: false), false),
        (FailureFacts(sqlState: .protocolViolation, severity: .fatal,
                      message: "server login has been failing, try again later (server_login_retry)",
                      phase: .sent, isConnectionUsable: false), false),
        (FailureFacts(sqlState: .protocolViolation, severity: .fatal, message: "something pgbouncer never said",
                      phase: .sent, isConnectionUsable: false), true),
        (FailureFacts(sqlState: .statementCompletionUnknown, severity: .error, message: "x",
                      phase: .sent, isConnectionUsable: true), true),
        (FailureFacts(message: "COMMIT answered ROLLBACK", phase: .commitInFlight, isConnectionUsable: true,
                      kind: .commitRolledBack), false),
        (FailureFacts(sqlState: .adminShutdown, severity: .warning, message: "x",
                      detail: "The transaction has already committed locally, but might not have been replicated.",
                      phase: .commitInFlight, isConnectionUsable: false), true),
    ])
    func mayHaveBeenApplied(facts: FailureFacts, expected: Bool) {
        #expect(facts.mayHaveBeenApplied == expected)
    }
}

@Suite("ErrorClass")
struct ErrorClassTests {
    @Test func everyClasssDescriptionNamesItAndSaysWhatTheCallerCanDo() {
        let actions = ["retry", "check", "fix", "run", "wait", "connect", "allow", "lower", "prepare", "make", "use"]
        for errorClass in ErrorClass.allCases {
            let advice = errorClass.advice.lowercased()
            #expect(actions.contains { advice.contains($0) }, "\(errorClass.name)")
            #expect(errorClass.description.hasPrefix(errorClass.name + ": "))
            #expect(errorClass.description.hasSuffix(errorClass.advice))
        }
    }

    @Test func classesAreDistinctAndEachHasItsOwnAdvice() {
        let classes = ErrorClass.allCases
        #expect(classes.count == 13)
        #expect(Set(classes).count == classes.count)
        #expect(Set(classes.map(\.name)).count == classes.count)
        #expect(Set(classes.map(\.advice)).count == classes.count)
    }

    @Test func onlyClassesThatCanClearByThemselvesAreTransient() {
        let transient = ErrorClass.allCases.filter(\.isTransient)
        #expect(Set(transient) == [.unreachable, .serverWentAway, .serverUnavailable, .resourceLimit, .readOnlyHost,
                                   .credentialUnavailable, .transactionConflict, .staleStatement])
    }
}
