import InMemoryLogging
import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

extension PrimaryStandbyTests {
    @Test(.enabled(if: IntegrationServers.bouncerInFrontOfPrimary, IntegrationServers.bouncerInFrontOfPrimarySkipReason))
    func pgbouncerOutOfClientSlotsIsAResourceLimitThenClears() async throws {
        // bouncer-primary admits 2 clients (max_client_conn=2): take both.
        var held: [LibPQConnection] = []
        for _ in 0..<2 {
            held.append(try await LibPQConnection.connect(IntegrationServers.appParameters(port: Self.bouncerPort)))
        }

        let once = Self.pooledClient { $0.retryPolicy.maxAttempts = 1 }
        let error = await #expect(throws: PostgresError.self) {
            try await once.execute("SELECT 1")
        }
        #expect(error?.errorClass == .resourceLimit)
        #expect(error?.reason == .attemptLimitReached)
        #expect(error?.attempts == 1)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(error?.lastFailure?.message.contains("no more connections allowed") == true)
        await once.shutdown()

        // A client with a budget backs off and gets through once a slot is free.
        let log = InMemoryLogHandler()
        let patient = Self.pooledClient {
            $0.retryPolicy.resourceLimitBackoff = .constant(.milliseconds(100))
            $0.logger = .inMemory(log)
        }
        async let rows = patient.query("SELECT 1::int8", options: .readOnly)
        #expect(try await log.waitForRetry())
        await held.removeLast().close()
        #expect(try await rows.decode(Int.self) == [1])
        #expect(log.retriedClasses.allSatisfy { $0 == ErrorClass.resourceLimit.name })
        await patient.shutdown()
        for connection in held { await connection.close() }
    }

    @Test(.enabled(if: IntegrationServers.bouncerInFrontOfPrimary, IntegrationServers.bouncerInFrontOfPrimarySkipReason))
    func pgbouncerThatNeverReachedItsServerAnswersQueryWaitTimeout() async throws {
        // Database `unreachable` points at a socket no server listens on: pgbouncer holds the login until
        // query_wait_timeout (2 s on bouncer-primary), then refuses it.
        let client = Self.pooledClient(["dbname": "unreachable"]) {
            $0.retryPolicy.maxAttempts = 1
            $0.connectTimeout = .seconds(30)
        }
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("INSERT INTO nowhere VALUES (1)")
        }
        #expect(error?.errorClass == .resourceLimit)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(error?.lastFailure?.message.contains("query_wait_timeout") == true)
        await client.shutdown()
    }
}
