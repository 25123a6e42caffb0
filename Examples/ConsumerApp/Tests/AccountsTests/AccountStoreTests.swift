import Accounts
import ResilientPostgres
import Testing

@MainActor
@Suite("Account store", .enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
struct AccountStoreTests {
    @Test func recordsAPaymentOnce() async throws {
        try await TestDatabase.withFreshClient { client in
            try await AccountsSchema.create(on: client, accountID: 1)
            let store = AccountStore(client: client, accountID: 1)
            let payment = Payment(key: "p-1", amount: Cents(2_500))

            #expect(try await store.record(payment) == .recorded)
            #expect(store.balance == Cents(2_500))
            #expect(store.recentPayments == [payment])
            #expect(store.status == .idle)

            // The same key again: the unique violation is a duplicate, and nothing changes.
            #expect(try await store.record(payment) == .duplicate)
            #expect(store.balance == Cents(2_500))
            #expect(store.status == .idle)
        }
    }

    @Test func rejectsAPaymentThatBreaksAConstraint() async throws {
        try await TestDatabase.withFreshClient { client in
            try await AccountsSchema.create(on: client, accountID: 1)
            let store = AccountStore(client: client, accountID: 1)
            _ = try await store.record(Payment(key: "p-1", amount: Cents(100)))

            // Overdrawing breaks the balance check (23514), a payment to no account the foreign key (23503).
            #expect(try await store.record(Payment(key: "p-2", amount: Cents(-500))) == .rejected)
            let stranger = AccountStore(client: client, accountID: 2)
            #expect(try await stranger.record(Payment(key: "p-3", amount: Cents(100))) == .rejected)

            try await store.refresh()
            #expect(store.balance == Cents(100))
            #expect(store.recentPayments.map(\.key) == ["p-1"])
        }
    }

    @Test func refreshReadsWhatAnotherStoreRecorded() async throws {
        try await TestDatabase.withFreshClient { client in
            try await AccountsSchema.create(on: client, accountID: 1)
            let writer = AccountStore(client: client, accountID: 1)
            _ = try await writer.record(Payment(key: "p-1", amount: Cents(100)))
            _ = try await writer.record(Payment(key: "p-2", amount: Cents(250)))

            let reader = AccountStore(client: client, accountID: 1)
            try await reader.refresh()
            #expect(reader.balance == Cents(350))
            #expect(Set(reader.recentPayments) == Set(writer.recentPayments))
        }
    }

    @Test func reversesARecordedPayment() async throws {
        try await TestDatabase.withFreshClient { client in
            try await AccountsSchema.create(on: client, accountID: 1)
            let store = AccountStore(client: client, accountID: 1)
            _ = try await store.record(Payment(key: "p-1", amount: Cents(100)))
            _ = try await store.record(Payment(key: "p-2", amount: Cents(40)))

            #expect(try await store.reverse(paymentKey: "p-1"))
            #expect(store.balance == Cents(40))
            #expect(store.recentPayments.map(\.key) == ["p-2"])
            #expect(try await store.reverse(paymentKey: "p-1") == false)
            #expect(store.balance == Cents(40))
        }
    }
}
