import PostgresTransport
import Testing

/// A result's affected rows and command tag are read in place from libpq's strings, with the counts that do not fit
/// or are not numbers read as none rather than misread.
@Suite("Command tags read in place")
struct CommandTagTests {
    @Test(arguments: [
        ("", nil), ("0", 0), ("1", 1), ("5000", 5000), ("9223372036854775807", Int.max),
        ("9223372036854775808", nil), ("99999999999999999999", nil), ("12a", nil), ("-1", nil), (" 1", nil),
    ] as [(String, Int?)])
    func aCountIsReadFromItsDigits(digits: String, count: Int?) {
        #expect(digits.withCString { QueryResult.count(inDigits: $0) } == count)
    }

    @Test func aMadeResultHandsOverItsTagAsBytes() {
        let result = QueryResult.make(columns: [], rows: [], commandTag: "PREPARE TRANSACTION")
        #expect(result.withCommandTag { Array($0) } == Array("PREPARE TRANSACTION".utf8))
        let empty = QueryResult.make(columns: [], rows: [], commandTag: "")
        #expect(empty.withCommandTag { $0.count } == 0)
    }
}
