import ResilientPostgres
import Testing
import TestSupport

/// What a command tag's first word tells a lent session's use: the word as a whole, never a prefix of it.
@Suite("Session commands", .capturingLogs)
struct SessionCommandTests {
    @Test(arguments: [
        ("BEGIN", SessionCommand.begin), ("START TRANSACTION", .begin), ("COMMIT", .commit),
        ("COMMIT PREPARED", .commit), ("ROLLBACK", .rollback), ("PREPARE", .prepare),
        ("PREPARE TRANSACTION", .prepareTransaction), ("SET", .changesNoData), ("SHOW", .changesNoData),
        ("SAVEPOINT", .changesNoData), ("RESET", .changesNoData), ("RELEASE", .changesNoData),
        ("DEALLOCATE", .changesNoData), ("DEALLOCATE ALL", .changesNoData), ("DISCARD ALL", .changesNoData),
        ("LISTEN", .changesNoData), ("UNLISTEN", .changesNoData), ("", .changesNoData), (" 1", .changesNoData),
        ("INSERT 0 1", .other), ("SELECT 1", .other), ("UPDATE 3", .other), ("DELETE 0", .other),
        ("BEGINS", .other), ("SETTLE", .other), ("COMMITTED", .other), ("ROLLBACKS", .other), ("S", .other),
        ("CREATE TABLE", .other), ("LOCK TABLE", .other), ("UNLISTENING", .other), ("DO", .other),
    ])
    func commandTagsAreReadByTheirFirstWord(tag: String, command: SessionCommand) {
        var tag = tag
        #expect(tag.withUTF8 { SessionCommand(utf8: $0) } == command)
    }
}
