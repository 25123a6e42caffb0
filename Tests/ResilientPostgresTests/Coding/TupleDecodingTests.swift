import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// Rows of two, three and four columns decode through their own overloads (specialised, without the variadic
/// decode's pack walk); they must decode, and fail, exactly as the variadic one does for other arities.
@Suite("Decoding rows into tuples", .capturingLogs)
struct TupleDecodingTests {
    /// A result of `columns` binary int8 columns, each row's values `row * 10 + column`.
    static func rows(columns: Int, count: Int = 3) -> PostgresRows {
        let result = QueryResult.make(
            columns: (0..<columns).map { QueryResult.Column(name: "c\($0)", type: 20, format: .binary) },
            rows: (0..<count).map { row in (0..<columns).map { bigEndian(Int64(row * 10 + $0)) } },
            commandTag: "SELECT \(count)"
        )
        return PostgresRows(result)
    }

    @Test func twoThreeAndFourColumnsDecodeInOrder() throws {
        #expect(try Self.rows(columns: 2).decode((Int, Int).self).map { [$0.0, $0.1] } == [[0, 1], [10, 11], [20, 21]])
        #expect(try Self.rows(columns: 3).decode((Int, Int, Int).self).map { [$0.0, $0.1, $0.2] }
            == [[0, 1, 2], [10, 11, 12], [20, 21, 22]])
        #expect(try Self.rows(columns: 4).decode((Int, Int, Int, Int).self).map { [$0.0, $0.1, $0.2, $0.3] }
            == [[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23]])
        // Five columns take the variadic decode.
        #expect(try Self.rows(columns: 5).decode((Int, Int, Int, Int, Int).self).map { [$0.0, $0.1, $0.2, $0.3, $0.4] }
            == [[0, 1, 2, 3, 4], [10, 11, 12, 13, 14], [20, 21, 22, 23, 24]])
    }

    @Test func anArityOtherThanTheColumnCountFailsAlikeWhicheverDecodeRuns() {
        let two = decodingError { _ = try Self.rows(columns: 3)[0].decode((Int, Int).self) }
        let three = decodingError { _ = try Self.rows(columns: 2)[0].decode((Int, Int, Int).self) }
        let four = decodingError { _ = try Self.rows(columns: 5)[0].decode((Int, Int, Int, Int).self) }
        let five = decodingError { _ = try Self.rows(columns: 4)[0].decode((Int, Int, Int, Int, Int).self) }
        #expect([two, three, four, five].map { $0?.code } == Array(repeating: .columnCountMismatch, count: 4))
        #expect(two?.reason == "decoding 2 values from a row of 3 columns")
        #expect(five?.reason == "decoding 5 values from a row of 4 columns")
    }

    @Test func rowsOfTheWrongArityFailAsTheirFirstRowDoesAndNoRowsDecodeToNone() throws {
        let two = decodingError { _ = try Self.rows(columns: 3).decode((Int, Int).self) }
        let four = decodingError { _ = try Self.rows(columns: 2).decode((Int, Int, Int, Int).self) }
        #expect(two?.reason == decodingError { _ = try Self.rows(columns: 3)[0].decode((Int, Int).self) }?.reason)
        #expect(four?.code == .columnCountMismatch)
        #expect(try Self.rows(columns: 3, count: 0).decode((Int, Int).self).isEmpty)
    }

    @Test func aCellThatFailsNamesItsColumn() {
        let error = decodingError { _ = try Self.rows(columns: 3)[0].decode((Int, Int, String?).self) }
        #expect(error?.code == .typeMismatch)
        #expect(error?.columnIndex == 2)
        #expect(error?.columnName == "c2")
    }
}
