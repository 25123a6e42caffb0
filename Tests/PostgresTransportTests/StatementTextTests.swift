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
        ("  ", false), ("commit$x", false), ("endé", false),
    ])
    func commitIsRecognisedAfterCommentsOnly(sql: String, isCommit: Bool) {
        #expect(StatementText.isCommit(sql) == isCommit)
    }

    @Test(arguments: [
        ("BEGIN", true), ("start transaction", true), ("COMMIT", true), ("End;", true), ("ROLLBACK", true),
        ("abort", true), ("/* app */ begin", true), ("SELECT 1", false), ("STARTS", false), ("BEGINNING", false),
        ("b", false), ("", false), ("SAVEPOINT a", false), ("RELEASE a", false), ("ab", false), ("end_of_day()", false),
        ("PREPARE TRANSACTION 'tx1'", true), ("prepare /* x */ transaction\n'tx1'", true),
        ("PREPARE TRANSACTION $$tx1$$", true), ("PREPARE fetch AS SELECT 1", false),
        ("PREPARE transaction AS SELECT 1", false), ("PREPARE transaction (int4) AS SELECT $1", false),
        ("PREPARE transactions AS SELECT 1", false), ("PREPARED", false), ("begin$1", false), ("endé()", false),
        ("commit;", true), ("END\n", true),
    ])
    func transactionControlIsRecognisedByItsFirstKeyword(sql: String, isTransactionControl: Bool) {
        #expect(StatementText.isTransactionControl(sql) == isTransactionControl)
    }
}
