import PostgresTransport
import Testing
import TestSupport

/// A statement's first keyword, read as the server reads it: after whitespace and comments.
@Suite("Statement text", .capturingLogs)
struct StatementTextTests {
    @Test(arguments: [
        ("COMMIT", true), ("  commit;", true), ("END", true), ("COMMIT PREPARED 'x'", true),
        ("/* app */ COMMIT", true), ("-- from the app\nCOMMIT", true), ("/* outer /* nested */ still */ COMMIT", true),
        ("/* COMMIT */ SELECT 1", false), ("-- COMMIT\nSELECT 1", false), ("COMMITTED", false), ("SELECT 'COMMIT'", false),
        ("Commit", true), ("end;", true), ("EXPLAIN SELECT 1", false), ("CALL commit_all()", false), ("", false),
        ("  ", false),
    ])
    func commitIsRecognisedAfterCommentsOnly(sql: String, isCommit: Bool) {
        #expect(StatementText.isCommit(sql) == isCommit)
    }
}
