import Foundation
import ResilientPostgres
import Testing
import TestSupport

@Suite(
    "Rows from a server", .capturingLogs,
    .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason)
)
struct ServerRowCodingTests {
    static let formats: [ValueFormat] = [.binary, .text]

    @Test(arguments: formats)
    func serversOwnValuesDecodeToIndependentlyKnownOnes(format: ValueFormat) async throws {
        let connection = try await ClientTestServer.session()
        let rows = try await connection.rows(
            """
            SELECT '1969-07-20 20:17:40.123456+00'::timestamptz, '1969-07-20'::date, 12345.6789::numeric,
                   '\\xdeadbeef'::bytea, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{1,NULL,3}'::int4[],
                   '{"a b",NULL,"c\\"d"}'::text[], 'NaN'::float8, '-infinity'::float4, 32767::int2
            """, format: format)
        let (moonLanding, day, amount, bytes, uuid, numbers, texts, nan, negativeInfinity, small) = try rows[0].decode(
            (Date, Date, Decimal, [UInt8], UUID, [Int?], [String?], Double, Float, Int16).self
        )
        #expect(Int64((moonLanding.timeIntervalSince1970 * 1e6).rounded()) == -14_182_939_876_544)
        #expect(day.timeIntervalSince1970 == -14_256_000)
        #expect(amount == Decimal(string: "12345.6789", locale: Locale(identifier: "en_US_POSIX")))
        #expect(bytes == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(uuid == UUID(uuidString: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"))
        #expect(numbers == [1, nil, 3])
        #expect(texts == ["a b", nil, "c\"d"])
        #expect(nan.isNaN && negativeInfinity == -.infinity && small == 32767)
    }

    @Test(arguments: ["Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam"])
    func textTimestampsDecodeWhateverTheSessionsTimeZone(zone: String) async throws {
        let connection = try await ClientTestServer.session()
        _ = try await connection.execute("SET TIME ZONE '\(zone)'")
        let rows = try await connection.rows(
            "SELECT '1900-01-01 00:00:00+00'::timestamptz, '2024-06-30 23:59:59.999999+00'::timestamptz", format: .text
        )
        let (old, recent) = try rows[0].decode((Date, Date).self)
        #expect(old.timeIntervalSince1970 == -2_208_988_800)
        #expect(Int64((recent.timeIntervalSince1970 * 1e6).rounded()) == 1_719_791_999_999_999)
    }

    /// An Int parameter compares with and inserts into int4 columns; overflow fails on the server.
    @Test func intParameterComparesWithAndInsertsIntoInt4Columns() async throws {
        let connection = try await ClientTestServer.session()
        _ = try await connection.execute("CREATE TEMP TABLE counters (id int4 PRIMARY KEY, label text)")
        _ = try await connection.rows("INSERT INTO counters VALUES (\(7), \("seven")), (\(8), \("eight"))")
        let rows = try await connection.rows("SELECT label FROM counters WHERE id = \(7)")
        #expect(try rows.decode(String.self).map { $0 } == ["seven"])
        await #expect(throws: TransportError.self) {
            _ = try await connection.rows("INSERT INTO counters VALUES (\(Int(Int32.max) + 1), \("too big"))")
        }
        let missing: String? = nil
        let nulls = try await connection.rows("SELECT count(*) FROM counters WHERE label IS NOT DISTINCT FROM \(missing)::text")
        #expect(try nulls[0].decode(Int.self, column: 0) == 0)
    }

    @Test(arguments: formats)
    func rowsDecodeIntoTuplesByColumnAndIntoDecodableTypes(format: ValueFormat) async throws {
        let connection = try await ClientTestServer.session()
        let rows = try await connection.rows(
            "SELECT * FROM (VALUES (1, 'ann', NULL::text), (2, 'bob', 'b@example.com')) AS u(user_id, full_name, email)",
            format: format
        )
        #expect(rows.count == 2)
        #expect(rows.columnNames == ["user_id", "full_name", "email"])
        #expect(rows.columnTypes == [.int4, .text, .text])
        let tuples = try rows.decode((Int, String, String?).self)
        #expect(tuples.map(\.0) == [1, 2] && tuples.map(\.1) == ["ann", "bob"] && tuples.map(\.2) == [nil, "b@example.com"])
        #expect(try rows[1].decode(String.self, column: "full_name") == "bob")
        #expect(try rows[1][column: "email"]?.decode(String.self) == "b@example.com")
        #expect(rows[0][column: "nope"] == nil)
        #expect(rows[0][column: 2].isNull)

        struct User: Decodable, Equatable {
            var userId: Int
            var fullName: String
            var email: String?
            var nickname: String?
        }
        let users = try rows.decode(User.self, keyDecodingStrategy: .convertFromSnakeCase)
        #expect(users == [
            User(userId: 1, fullName: "ann", email: nil, nickname: nil),
            User(userId: 2, fullName: "bob", email: "b@example.com", nickname: nil),
        ])
        struct Exact: Decodable { var user_id: Int16 }
        #expect(try rows.decode(Exact.self).map(\.user_id) == [1, 2])
        #expect(throws: PostgresDecodingError.self) { try rows.decode(User.self) }
    }

    /// Decoding errors name the column, its type and the Swift type, and hide the value.
    @Test func decodingErrorsNameTheColumn() async throws {
        let connection = try await ClientTestServer.session()
        let rows = try await connection.rows("SELECT 'hunter2'::text AS password, NULL::int8 AS maybe, 70000 AS big")
        let mismatch = decodingError { _ = try rows[0].decode(Int.self, column: "password") }
        #expect(mismatch?.code == .typeMismatch)
        #expect(mismatch?.columnIndex == 0 && mismatch?.columnName == "password" && mismatch?.dataType == .text)
        let description = try #require(mismatch?.description)
        #expect(description.contains("column 0 \"password\"") && description.contains("text") && description.contains("Swift.Int"))
        #expect(!description.contains("hunter2"))
        #expect(mismatch.map { String(reflecting: $0) }?.contains("hunter2") == true)

        let null = decodingError { _ = try rows[0].decode(Int.self, column: 1) }
        #expect(null?.code == .unexpectedNull && null?.columnName == "maybe")
        #expect(decodingError { _ = try rows[0].decode(Int16.self, column: "big") }?.code == .outOfRange)
        #expect(decodingError { _ = try rows[0].decode(Int.self, column: "absent") }?.code == .missingColumn)
        #expect(decodingError { _ = try rows[0].decode(Int.self, column: 9) }?.code == .missingColumn)
        #expect(decodingError { _ = try rows[0].decode((String, Int?).self) }?.code == .columnCountMismatch)

        struct Nested: Decodable {
            struct Inner: Decodable { var x: Int }
            var password: Inner
        }
        #expect(decodingError { _ = try rows[0].decode(Nested.self) }?.code == .unsupportedShape)
    }
}
