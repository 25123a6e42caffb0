import ResilientPostgres
import ResilientPostgresSamples
import ResilientPostgresTesting
import Testing

/// What the samples of the articles and doc comments say, checked on a scripted database.
@Suite("What the samples claim")
struct SampleClaimsTests {
    /// "Interpolated values are bound as parameters, never spliced into the SQL."
    @Test func interpolatedValuesAreParameters() async throws {
        let query = CodingReference.userQuery(id: 7, name: "ann")
        #expect(query.sql == "SELECT * FROM users WHERE id = $1 AND name = $2")
        #expect(query.parameterCount == 2)

        let database = ScriptedDatabase()
        database.answer("SELECT key, amount FROM orders", with: .rows(["key", "amount"], []))
        database.answer("INSERT INTO orders", with: .inserted(1))
        database.answer("UPDATE accounts", with: .updated(1))
        let client = PostgresClient.testing(database)
        try await GettingStarted.firstOperations(client: client, key: "order-9", amount: 90, from: 1, to: 2)

        let insert = try #require(database.statements(matching: "INSERT INTO orders").first)
        #expect(insert.sql == "INSERT INTO orders (key, amount) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        #expect(try insert.parameter(0, as: String.self) == "order-9")
        #expect(database.statements(matching: "UPDATE accounts").count == 2)
        await client.shutdown()
    }

    /// The migration article: a class matches every code in it, and a code only itself, so "23505" is tried first.
    @Test(arguments: [
        ("23505", MigratingFromPostgresNIO.Registration.alreadyRegistered),
        ("23502", .refused),
        ("23503", .refused),
    ])
    func sqlStateClassesMatchTheirCodes(code: String, registration: MigratingFromPostgresNIO.Registration)
        async throws
    {
        let integrityConstraintViolation: SQLState = "23"
        let state = try #require(SQLState(code))
        #expect(integrityConstraintViolation ~= state)
        #expect(!(state ~= integrityConstraintViolation))

        let database = ScriptedDatabase()
        database.answer("INSERT INTO users", with: .fault(.sqlState(state, message: "violates a constraint")))
        let client = PostgresClient.testing(database)
        #expect(try await MigratingFromPostgresNIO.register(email: "ann@example.com", client: client) == registration)
        await client.shutdown()
    }

    /// Any other failure is not a registration outcome: it is thrown.
    @Test func otherFailuresAreThrown() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO users", with: .fault(.sqlState("42P01", message: "no such table")))
        let client = PostgresClient.testing(database)
        await #expect(throws: PostgresError.self) {
            try await MigratingFromPostgresNIO.register(email: "ann@example.com", client: client)
        }
        await client.shutdown()
    }

    /// `SQLState`'s doc comment: a class pattern catches every code of the class.
    @Test func sqlStateSwitch() {
        #expect(ClientReference.advice(for: .adminShutdown).hasPrefix("reconnect"))
        #expect(ClientReference.advice(for: "53300").hasPrefix("wait"))
        #expect(ClientReference.advice(for: "53200").hasPrefix("wait"))
        #expect(ClientReference.advice(for: "57P02").hasPrefix("see"))
    }

    /// "What is retried": when the answer to the write is lost and the lookup finds it, the call says so.
    @Test func verificationFindsALostWrite() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        database.answer("SELECT 1 FROM payments", with: .value(1))
        let client = PostgresClient.testing(database)

        let outcome = try await WhatIsRetried.recordPayment(key: "pay-1", amount: 500, client: client)
        #expect(outcome == .appliedEarlier)
        #expect(database.statements(matching: "INSERT INTO payments").count == 1)
        await client.shutdown()
    }

    /// `PostgresRows` and `PostgresRow`: tuples take every column in order, `Decodable` types take columns by name.
    @Test func rowsDecode() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT id, name FROM users", with: .rows(["id", "name"], [[1, "ann"], [2, "bo"]]))
        let client = PostgresClient.testing(database)
        let rows = try await client.query("SELECT id, name FROM users", options: .readOnly)

        let (pairs, users) = try CodingReference.decodeUsers(rows)
        #expect(pairs.map(\.1) == ["ann", "bo"])
        #expect(users.map(\.id) == [1, 2])
        await client.shutdown()
    }

    /// "Failover and high availability": the keyword list and the URL name the same servers, and sessions target
    /// a read-write one.
    @Test func multiHostConfiguration() throws {
        let configuration = try FailoverAndHighAvailability.configuration()
        let url = try PostgresClient.Configuration(
            "postgresql://app@db-a.internal:5432,db-b.internal:5432/app?sslmode=verify-full"
        )
        for keyword in ["host", "dbname", "user", "sslmode", "target_session_attrs"] {
            #expect(configuration.connection[keyword] == url.connection[keyword], "\(keyword)")
        }
        // One port for every host, or one per host.
        #expect(configuration.connection["port"] == "5432")
        #expect(url.connection["port"] == "5432,5432")
        #expect(configuration.connection["host"] == "db-a.internal,db-b.internal")
        #expect(configuration.connection["target_session_attrs"] == "read-write")
    }
}
