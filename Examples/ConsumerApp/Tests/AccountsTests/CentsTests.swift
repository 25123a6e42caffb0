import Accounts
import ResilientPostgres
import Testing

@Suite("Cents")
struct CentsTests {
    @Test(.enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
    func roundTripsThroughTheServer() async throws {
        try await TestDatabase.withFreshClient { client in
            let rows = try await client.query("SELECT \(Cents(1_999)) + \(Cents(-5))", options: .readOnly)
            #expect(try rows[0].decode(Cents.self, column: 0) == Cents(1_994))
        }
    }

    @Test(.enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
    func readsAnyIntegerColumn() async throws {
        try await TestDatabase.withFreshClient { client in
            let rows = try await client.query("SELECT 7::smallint, 12::integer, NULL::bigint", options: .readOnly)
            let (small, regular, missing) = try rows[0].decode((Cents, Cents, Cents?).self)
            #expect(small == Cents(7))
            #expect(regular == Cents(12))
            #expect(missing == nil)
        }
    }

    @Test(.enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
    func refusesANumericRatherThanRoundingIt() async throws {
        try await TestDatabase.withFreshClient { client in
            let rows = try await client.query("SELECT 12.5::numeric", options: .readOnly)
            let error = #expect(throws: PostgresDecodingError.self) {
                try rows[0].decode(Cents.self, column: 0)
            }
            #expect(error?.code == .typeMismatch)
        }
    }

    @Test func printsAsAnAmount() {
        #expect(Cents(1_234).description == "12.34")
        #expect(Cents(-5).description == "-0.05")
        #expect(Cents(0).description == "0.00")
    }
}
