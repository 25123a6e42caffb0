import Foundation
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Query interpolation", .capturingLogs)
struct QueryCodingTests {
    @Test func interpolatedValuesBecomeNumberedParametersNeverSQLText() {
        let id = 42
        let name = "Robert'); DROP TABLE students;--"
        let query: PostgresQuery = "SELECT * FROM t WHERE id = \(id) AND name = \(name)"
        #expect(query.sql == "SELECT * FROM t WHERE id = $1 AND name = $2")
        #expect(query.parameters == [
            .binary([0, 0, 0, 0, 0, 0, 0, 42], type: 20), .text("Robert'); DROP TABLE students;--", type: 0),
        ])
    }

    @Test func nilBindsATypedNULLArraysDatesAndUuidsBindInBinary() throws {
        let missing: Int32? = nil
        let uuid = try #require(UUID(uuidString: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        let query: PostgresQuery = "SELECT \(missing), \([true]), \(uuid), \(Date(timeIntervalSince1970: 946_684_800))"
        #expect(query.sql == "SELECT $1, $2, $3, $4")
        #expect(query.parameters[0] == .null(type: 23))
        #expect(query.parameters[1] == .binary(binaryArray(elementType: 16, [[1]]), type: 1000))
        #expect(query.parameters[2].type == 2950)
        #expect(query.parameters[3] == .binary([0, 0, 0, 0, 0, 0, 0, 0], type: 1184))
    }

    /// Placeholders are numbered the same way below 100, where they come from a table, and beyond it.
    @Test func placeholdersAreNumberedInOrderPastAHundred() {
        var interpolation = PostgresQuery.StringInterpolation(literalCapacity: 0, interpolationCount: 120)
        for value in 0..<120 {
            interpolation.appendLiteral(value == 0 ? "SELECT " : ", ")
            interpolation.appendInterpolation(value)
        }
        let query = PostgresQuery(stringInterpolation: interpolation)
        #expect(query.sql == "SELECT " + (1...120).map { "$\($0)" }.joined(separator: ", "))
        #expect(query.parameterCount == 120)
    }

    /// The text is the same whether it is gathered inline or outgrows that room, at any append: a long literal,
    /// multi-byte text, a raw splice or a placeholder.
    @Test(arguments: [0, 100, 120, 125, 126, 127, 128, 200])
    func textIsKeptWholeAcrossTheInlineRoom(padding: Int) {
        let pad = String(repeating: "x", count: padding)
        let query: PostgresQuery = "SELECT '\(unsafeRaw: pad)', 'é€😀' || \(1) || \(unsafeRaw: "'ü'") -- \(2)"
        #expect(query.sql == "SELECT '\(pad)', 'é€😀' || $1 || 'ü' -- $2")
        #expect(query.parameterCount == 2)
    }

    @Test func unsafeRawSplicesTrustedTextUnsafeSQLBindsTheValuesGiven() throws {
        let table = "audit_2024"
        let query: PostgresQuery = "SELECT count(*) FROM \(unsafeRaw: table) WHERE level > \(Int16(3))"
        #expect(query.sql == "SELECT count(*) FROM audit_2024 WHERE level > $1")
        #expect(query.parameterCount == 1)
        let explicit = try PostgresQuery(unsafeSQL: "SELECT $1, $2", binding: [Int16(3), "x"])
        #expect(explicit.parameters == [.binary([0, 3], type: 21), .text("x", type: 0)])
        #expect(PostgresQuery(unsafeSQL: "SELECT 1").parameterCount == 0)
    }

    /// A literal without interpolation has no parameters; equal queries are equal.
    @Test func literalWithoutInterpolationHasNoParameters() {
        let first: PostgresQuery = "SELECT 1"
        let second: PostgresQuery = "SELECT \(1)"
        let third: PostgresQuery = "SELECT \(1)"
        #expect(first.sql == "SELECT 1" && first.parameterCount == 0)
        #expect(second == third)
        #expect(first != second)
    }

    @Test func jsonInterpolationBindsJsonbAndNeedsTry() throws {
        let query: PostgresQuery = try "INSERT INTO events VALUES (\(PostgresJSON(["k": "v"])))"
        #expect(query.sql == "INSERT INTO events VALUES ($1)")
        #expect(query.parameters[0].type == 3802)
    }

    @Test func descriptionsShowTheSQLNeverTheValues() {
        let password = "hunter2-secret"
        let query: PostgresQuery = "ALTER ROLE app PASSWORD \(password)"
        #expect(query.description == "ALTER ROLE app PASSWORD $1")
        #expect(!String(reflecting: query).contains(password))
        #expect(!"\(query)".contains(password))
    }
}
