import Foundation
import Hummingbird
import HummingbirdTesting
import OrdersAPI
import ResilientPostgres
import Testing

/// The routes, driven in process against the real server, each test in a schema of its own.
@Suite(.enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
struct OrderRoutesTests {
    static let espresso = #"{"customer": "ada", "item": "espresso", "quantity": 2}"#

    @Test func placingAnOrderRecordsItAndAnswersWithIt() async throws {
        try await TestDatabase.withFresh { database in
            let key = uniqueKey("create")
            let response = try await database.testRouter { client in try await client.put(key, Self.espresso) }

            #expect(response.status == .created)
            #expect(response.headers[.location] == "/orders/\(key)")
            let order = try response.order()
            #expect(order.key == key)
            #expect(order.request == OrderRequest(customer: "ada", item: "espresso", quantity: 2))
            #expect(abs(order.placedAt.timeIntervalSinceNow) < 60)
            #expect(try await database.rowCount(key: key) == 1)
        }
    }

    @Test func repeatingTheRequestGetsTheSameAnswerAndWritesOnce() async throws {
        try await TestDatabase.withFresh { database in
            let key = uniqueKey("repeat")
            let (first, second) = try await database.testRouter { client in
                let first = try await client.put(key, Self.espresso)
                // The same order, laid out differently: still the same request.
                let second = try await client.put(key, #"{"quantity":2,"item":"espresso","customer":"ada"}"#)
                return (first, second)
            }

            #expect(first.status == .created)
            #expect(second.status == first.status)
            #expect(second.headers[.location] == first.headers[.location])
            #expect(second.text == first.text)
            #expect(try second.order() == first.order())
            #expect(try await database.rowCount(key: key) == 1)
        }
    }

    @Test func concurrentRepeatsAllGetTheSameAnswer() async throws {
        try await TestDatabase.withFresh { database in
            let key = uniqueKey("race")
            let responses = try await database.testRouter { client in
                try await withThrowingTaskGroup(of: TestResponse.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await client.put(key, Self.espresso) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }

            #expect(responses.count == 8)
            #expect(responses.allSatisfy { $0.status == .created })
            #expect(Set(responses.map(\.text)).count == 1)
            #expect(try await database.rowCount(key: key) == 1)
        }
    }

    @Test func aDifferentOrderUnderTheSameKeyIsAConflict() async throws {
        try await TestDatabase.withFresh { database in
            let key = uniqueKey("conflict")
            let (first, conflicting, readBack) = try await database.testRouter { client in
                let first = try await client.put(key, Self.espresso)
                let conflicting = try await client.put(key, #"{"customer": "ada", "item": "espresso", "quantity": 3}"#)
                let readBack = try await client.get(key)
                return (first, conflicting, readBack)
            }

            #expect(first.status == .created)
            #expect(conflicting.status == .conflict)
            #expect(conflicting.text.contains("different order"))
            #expect(readBack.status == .ok)
            #expect(try readBack.order() == first.order())
            #expect(try await database.rowCount(key: key) == 1)
        }
    }

    @Test func anOrderReadsBack() async throws {
        try await TestDatabase.withFresh { database in
            let key = uniqueKey("read")
            let (placed, read) = try await database.testRouter { client in
                (try await client.put(key, Self.espresso), try await client.get(key))
            }

            #expect(read.status == .ok)
            #expect(read.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try read.order() == placed.order())
        }
    }

    @Test func aMissingOrderIsNotFound() async throws {
        try await TestDatabase.withFresh { database in
            let response = try await database.testRouter { client in try await client.get(uniqueKey("missing")) }

            #expect(response.status == .notFound)
        }
    }

    @Test func malformedRequestsAreRefusedAndWriteNothing() async throws {
        try await TestDatabase.withFresh { database in
            let key = uniqueKey("invalid")
            let (badKey, badJSON, missingField, zeroQuantity) = try await database.testRouter { client in
                (
                    try await client.put("not%20a%20key", Self.espresso),
                    try await client.put(key, #"{"customer": "ada", "#),
                    try await client.put(key, #"{"customer": "ada", "quantity": 1}"#),
                    try await client.put(key, #"{"customer": "ada", "item": "espresso", "quantity": 0}"#)
                )
            }

            #expect(badKey.status == .badRequest)
            #expect(badJSON.status == .badRequest)
            #expect(missingField.status == .badRequest)
            #expect(zeroQuantity.status == .unprocessableContent)
            #expect(zeroQuantity.text.contains("quantity"))
            #expect(try await database.rowCount(key: key) == 0)
        }
    }

    @Test func aPermanentFailureIsAnInternalErrorThatKeepsTheServerTextOut() async throws {
        try await TestDatabase.withFresh { database in
            let key = uniqueKey("permanent")
            let (placed, failed) = try await database.testRouter { client in
                let placed = try await client.put(key, Self.espresso)
                // Retrying cannot bring the table back: 42P01, a permanent failure.
                try await database.client.execute("DROP TABLE shop_orders")
                return (placed, try await client.get(key))
            }

            #expect(placed.status == .created)
            #expect(failed.status == .internalServerError)
            #expect(failed.headers[.retryAfter] == nil)
            #expect(failed.text.contains("Internal error"))
            for serverText in ["shop_orders", "does not exist", "42P01", "relation"] {
                #expect(!failed.text.contains(serverText))
            }
        }
    }
}
