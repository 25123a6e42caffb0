import Foundation
import ResilientPostgres
import Testing
import TestSupport

@Suite(
    "Round trips through a server", .capturingLogs,
    .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason)
)
struct ServerRoundTripCodingTests {
    static let formats: [ValueFormat] = [.binary, .text]

    /// Sends each value as `$1::type` and expects it back unchanged, in the given result format.
    func expectRoundTrips<T: PostgresEncodable & PostgresDecodable & Equatable>(
        _ values: [T], as type: String, format: ValueFormat, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let connection = try await ClientTestServer.session()
        for value in values {
            let back = try await connection.roundTrip(value, as: type, format: format)
            #expect(back == value, "\(type) in \(format)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: formats)
    func integers(format: ValueFormat) async throws {
        try await expectRoundTrips([Int64.min, -1, 0, Int64.max], as: "int8", format: format)
        try await expectRoundTrips([Int.min, Int.max], as: "int8", format: format)
        try await expectRoundTrips([Int32.min, Int32.max], as: "int4", format: format)
        try await expectRoundTrips([Int16.min, Int16.max], as: "int2", format: format)
        try await expectRoundTrips([UInt8(ascii: "a")], as: "\"char\"", format: format)
    }

    @Test(arguments: formats)
    func floatsIncludingNaNAndInfinities(format: ValueFormat) async throws {
        try await expectRoundTrips([0, -0.5, .infinity, -.infinity, .greatestFiniteMagnitude, 1e-300], as: "float8", format: format)
        try await expectRoundTrips([Float(0.1), -.infinity, .leastNormalMagnitude], as: "float4", format: format)
        let connection = try await ClientTestServer.session()
        #expect(try await connection.roundTrip(Double.nan, as: "float8", format: format).isNaN)
    }

    @Test(arguments: formats)
    func textBoolAndUuid(format: ValueFormat) async throws {
        try await expectRoundTrips(["", "plain", "Grüße, 世界 🐘", "quote ' and \\ backslash"], as: "text", format: format)
        try await expectRoundTrips(["varchar"], as: "varchar", format: format)
        try await expectRoundTrips([true, false], as: "bool", format: format)
        try await expectRoundTrips([UUID(), UUID()], as: "uuid", format: format)
    }

    @Test(arguments: formats)
    func byteaIncluding1MiB(format: ValueFormat) async throws {
        let large = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 9) }
        try await expectRoundTrips([[], [0, 0x5C, 0xFF], large], as: "bytea", format: format)
        try await expectRoundTrips([Data(), Data(large)], as: "bytea", format: format)
    }

    @Test(arguments: formats)
    func datesBefore1970And2000WithMicroseconds(format: ValueFormat) async throws {
        let instants: [Double] = [-14_182_940.123456, -2_208_988_800.000001, 0, 946_684_799.999999, 1_700_000_000.5]
        let dates = instants.map { Date(timeIntervalSince1970: $0) }
        let connection = try await ClientTestServer.session()
        for date in dates {
            for type in ["timestamptz", "timestamp"] {
                let back = try await connection.roundTrip(date, as: type, format: format)
                #expect(Self.micros(back) == Self.micros(date), "\(type) in \(format)")
            }
        }
    }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    @Test(arguments: formats)
    func decimalsWithManyDigitsAndNegativeWeights(format: ValueFormat) async throws {
        let texts = ["0", "12345.6789", "-0.001", "0.00000001", "100000000000000000000", "-98765432109876543210.987654321098765432"]
        let values = texts.map { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX"))! }
        try await expectRoundTrips(values, as: "numeric", format: format)
    }

    struct Event: Codable, Equatable, Sendable {
        var name: String
        var count: Int
    }

    @Test(arguments: formats)
    func jsonThroughJsonbAndJson(format: ValueFormat) async throws {
        let value = PostgresJSON(Event(name: "deploy é", count: 3))
        try await expectRoundTrips([value], as: "jsonb", format: format)
        try await expectRoundTrips([value], as: "json", format: format)
    }

    @Test(arguments: formats)
    func arraysWithNULLsQuotesAndEmptyOnes(format: ValueFormat) async throws {
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
