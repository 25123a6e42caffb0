import Foundation
import ResilientPostgres
import Testing

@Suite(
    "Round trips through a server",
    .enabled(if: ProcessInfo.processInfo.environment["POSTGRES_PORT"] != nil, "needs the PostgreSQL servers that `make test` starts")
)
struct ServerRoundTripCodingTests {
    static let formats: [ValueFormat] = [.binary, .text]

    /// Sends each value as `$1::type` and expects it back unchanged, in the given result format.
    func expectRoundTrips<T: PostgresEncodable & PostgresDecodable & Equatable>(
        _ values: [T], as type: String, format: ValueFormat, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let connection = try await CodingTestServer.connect()
        for value in values {
            let back = try await connection.roundTrip(value, as: type, format: format)
            #expect(back == value, "\(type) in \(format)", sourceLocation: sourceLocation)
        }
    }

    @Test("integers", arguments: formats)
    func integers(format: ValueFormat) async throws {
        try await expectRoundTrips([Int64.min, -1, 0, Int64.max], as: "int8", format: format)
        try await expectRoundTrips([Int.min, Int.max], as: "int8", format: format)
        try await expectRoundTrips([Int32.min, Int32.max], as: "int4", format: format)
        try await expectRoundTrips([Int16.min, Int16.max], as: "int2", format: format)
        try await expectRoundTrips([UInt8(ascii: "a")], as: "\"char\"", format: format)
    }

    @Test("floats, including NaN and infinities", arguments: formats)
    func floats(format: ValueFormat) async throws {
        try await expectRoundTrips([0, -0.5, .infinity, -.infinity, .greatestFiniteMagnitude, 1e-300], as: "float8", format: format)
        try await expectRoundTrips([Float(0.1), -.infinity, .leastNormalMagnitude], as: "float4", format: format)
        let connection = try await CodingTestServer.connect()
        #expect(try await connection.roundTrip(Double.nan, as: "float8", format: format).isNaN)
    }

    @Test("text, bool and uuid", arguments: formats)
    func textLike(format: ValueFormat) async throws {
        try await expectRoundTrips(["", "plain", "Grüße, 世界 🐘", "quote ' and \\ backslash"], as: "text", format: format)
        try await expectRoundTrips(["varchar"], as: "varchar", format: format)
        try await expectRoundTrips([true, false], as: "bool", format: format)
        try await expectRoundTrips([UUID(), UUID()], as: "uuid", format: format)
    }

    @Test("bytea, including 1 MiB", arguments: formats)
    func bytea(format: ValueFormat) async throws {
        let large = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 9) }
        try await expectRoundTrips([[], [0, 0x5C, 0xFF], large], as: "bytea", format: format)
        try await expectRoundTrips([Data(), Data(large)], as: "bytea", format: format)
    }

    @Test("dates before 1970 and 2000, with microseconds", arguments: formats)
    func dates(format: ValueFormat) async throws {
        let instants: [Double] = [-14_182_940.123456, -2_208_988_800.000001, 0, 946_684_799.999999, 1_700_000_000.5]
        let dates = instants.map { Date(timeIntervalSince1970: $0) }
        let connection = try await CodingTestServer.connect()
        for date in dates {
            for type in ["timestamptz", "timestamp"] {
                let back = try await connection.roundTrip(date, as: type, format: format)
                #expect(Self.micros(back) == Self.micros(date), "\(type) in \(format)")
            }
        }
    }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    @Test("decimals with many digits and negative weights", arguments: formats)
    func decimals(format: ValueFormat) async throws {
        let texts = ["0", "12345.6789", "-0.001", "0.00000001", "100000000000000000000", "-98765432109876543210.987654321098765432"]
        let values = texts.map { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX"))! }
        try await expectRoundTrips(values, as: "numeric", format: format)
    }

    struct Event: Codable, Equatable, Sendable {
        var name: String
        var count: Int
    }

    @Test("JSON through jsonb and json", arguments: formats)
    func json(format: ValueFormat) async throws {
        let value = PostgresJSON(Event(name: "deploy é", count: 3))
        try await expectRoundTrips([value], as: "jsonb", format: format)
        try await expectRoundTrips([value], as: "json", format: format)
    }

    @Test("arrays, with NULLs, quotes and empty ones", arguments: formats)
    func arrays(format: ValueFormat) async throws {
        try await expectRoundTrips([[Int.min, 0, Int.max], []], as: "int8[]", format: format)
        try await expectRoundTrips([[Int32(1), nil, 3] as [Int32?]], as: "int4[]", format: format)
        try await expectRoundTrips([[Int16(-2)]], as: "int2[]", format: format)
        try await expectRoundTrips([["a b", "q\"uote", "back\\slash", "NULL", "", "{x,y}", "ü"]], as: "text[]", format: format)
        try await expectRoundTrips([["x", nil] as [String?]], as: "text[]", format: format)
        try await expectRoundTrips([[1.5, -.infinity]], as: "float8[]", format: format)
        try await expectRoundTrips([[true, false]], as: "bool[]", format: format)
        try await expectRoundTrips([[UUID(), UUID()]], as: "uuid[]", format: format)
        try await expectRoundTrips([[Decimal(string: "1.25")!, Decimal(-7)]], as: "numeric[]", format: format)
        try await expectRoundTrips([[Data([0, 1]), Data()]], as: "bytea[]", format: format)
        let dates = [Date(timeIntervalSince1970: -1.5), Date(timeIntervalSince1970: 1e9)]
        try await expectRoundTrips([dates], as: "timestamptz[]", format: format)
        try await expectRoundTrips([[PostgresJSON(Event(name: "a", count: 1))]], as: "jsonb[]", format: format)
    }
}
