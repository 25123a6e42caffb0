import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// A result keeps its first eight columns' types and formats and asks the storage about the others; a value of
/// length 0 is either empty or SQL NULL. Every column must decode the same whichever way its facts are read.
@Suite("Decoding wide rows", .capturingLogs)
struct WideRowDecodingTests {
    /// Ten columns: int8 in binary and text in turn (and binary at 7, the last column whose facts are kept), with
    /// text columns at 8 (empty) and 9 (NULL in the second row).
    static let rows: PostgresRows = {
        var columns = (0..<8).map { column in
            let isBinary = column.isMultiple(of: 2) || column == 7
            return QueryResult.Column(name: "c\(column)", type: 20, format: isBinary ? .binary : .text)
        }
        columns += [
            QueryResult.Column(name: "empty", type: 25, format: .binary),
            QueryResult.Column(name: "late", type: 23, format: .text),
        ]
        let values: [[[UInt8]?]] = (0..<2).map { row in
            (0..<8).map { column in
                let value = row * 100 + column
                return column.isMultiple(of: 2) || column == 7 ? bigEndian(Int64(value)) : Array("\(value)".utf8)
            } + [[], row == 0 ? Array("-9".utf8) : nil]
        }
        return PostgresRows(QueryResult.make(columns: columns, rows: values, commandTag: "SELECT 2"))
    }()

    @Test func everyColumnDecodesWhetherItsFactsAreKeptOrAsked() throws {
        for (index, row) in Self.rows.enumerated() {
            #expect(try (0..<8).map { try row.decode(Int.self, column: $0) } == (0..<8).map { index * 100 + $0 })
            #expect(try row.decode(String.self, column: 8) == "")
            #expect(try row.decode(String?.self, column: 8) == "")
            #expect(try row.decode(Int?.self, column: 9) == (index == 0 ? -9 : nil))
        }
    }

    @Test func columnsAfterTheEighthKeepTheirTypeAndFormat() throws {
        let late = try #require(Self.rows[0][column: "late"])
        #expect(late.dataType == .int4)
        #expect(late.format == .text)
        #expect(Self.rows[1][column: 9].isNull)
        #expect(!Self.rows[1][column: 8].isNull)
        #expect(decodingError { _ = try Self.rows[1].decode(Int.self, column: 9) }?.code == .unexpectedNull)
        #expect(decodingError { _ = try Self.rows[0].decode(Int.self, column: 8) }?.code == .typeMismatch)
    }
}
