import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing
import TestSupport

/// A listener against a scripted database: what it reports, in order, through losses, outages and failovers, and
/// that ending its iteration closes its session.
@Suite("Listening", .capturingLogs)
struct ListenTests {
    /// An event as a short string: `listening`, `orders 1 from 0`, `gap(failover)`, `retry 2`.
    static func describe(_ event: ListenEvent?) -> String {
        switch event {
        case nil: "end"
        case .listening?: "listening"
        case .notification(let notification)?:
            "\(notification.channel) \(notification.payload) from \(notification.backendPID)"
        case .gap(let gap)?: "gap(\(gap.reason))"
        case .reconnecting(let retry)?: "retry \(retry.failedAttempts)"
        }
    }

    /// The next event that is not a retry (which a later event may replace before the consumer takes it).
    static func nextSettled(_ events: inout PostgresNotifications.Iterator) async throws -> ListenEvent? {
        while true {
            let event = try await events.next()
            if case .reconnecting? = event { continue }
            return event
        }
    }

    /// Waits, in real time, until `condition` holds.
    static func eventually(_ condition: () -> Bool) async throws {
        let givingUp = ContinuousClock.now.advanced(by: .seconds(10))
        while !condition(), ContinuousClock.now < givingUp {
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func notificationsOfTheChannelsArriveInOrderAfterListening() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        try await shuttingDown(client) {
            var events = client.listen(to: "orders", "Refunds").makeAsyncIterator()
            #expect(Self.describe(try await events.next()) == "listening")
            let listens = database.statements(matching: "LISTEN").map(\.sql)
            #expect(listens.prefix(2) == [#"LISTEN "orders""#, #"LISTEN "Refunds""#])

            database.notify("orders", payload: "1", backendPID: 42)
            database.notify("other", payload: "x")
            database.notify("Refunds", payload: "2", backendPID: 42)
            try await client.notify("orders", payload: "3")
            let sender = try #require(database.statements(matching: .containing("pg_notify")).last?.connection)
            #expect(Self.describe(try await events.next()) == "orders 1 from 42")
            #expect(Self.describe(try await events.next()) == "Refunds 2 from 42")
            #expect(Self.describe(try await events.next()) == "orders 3 from \(sender)")
            // The channel and payload were bound, not spliced.
            let notify = try #require(database.statements(matching: .containing("pg_notify")).last)
            #expect(try notify.parameter(1, as: String.self) == "3")
        }
    }

    @Test func aTerminatedSessionIsReplacedWithinTheFirstDelayAndReportedAsAGap() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        var events = client.listen(to: "orders").makeAsyncIterator()
        #expect(Self.describe(try await events.next()) == "listening")
        database.terminateSessions()
        let wait = try await database.clock.nextSleep()
        #expect(wait.duration <= client.configuration.retryPolicy.backoff.nominalDelay(forRetry: 1))
        database.clock.advance(to: wait.deadline)
        let gap = try await Self.nextSettled(&events)
        #expect(Self.describe(gap) == "gap(session terminated)")
        guard case .gap(let details)? = gap else { return }
        #expect(details.failure?.sqlState == .adminShutdown)
        #expect(database.connects.count == 2)
        #expect(database.openSessions == [2])
        database.notify("orders", payload: "after")
        #expect(Self.describe(try await events.next()) == "orders after from 0")
    }

    @Test func throughAnOutageTheListenerKeepsTryingAndReportsARestart() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        var events = client.listen(to: "orders").makeAsyncIterator()
        #expect(Self.describe(try await events.next()) == "listening")
        database.beginOutage()
        // Lost, one reconnect at once (refused), then the backoff: the listener says it is still trying.
        for attempt in 1...5 {
            let sleep = try await database.clock.nextSleep()
            guard case .reconnecting(let retry)? = try await events.next() else {
                Issue.record("expected a retry")
                return
            }
            #expect(retry.failedAttempts >= attempt)
            #expect(retry.nextAttemptIn == sleep.duration)
            database.clock.advance(to: sleep.deadline)
        }
        // Long after any operation's budget, it still tries. The clock moves from pause to pause with everything
        // settled at each, so that no pause starts after a jump of the clock that it should have seen.
        try await database.clock.run(for: .seconds(120))
        #expect(database.connects.count > 5)
        database.endOutage()
        // The pause in progress ends, the next reconnect succeeds, and the listener reports the gap.
        try await database.clock.run(for: client.configuration.retryPolicy.backoff.cap)
        let gap = try await Self.nextSettled(&events)
        #expect(Self.describe(gap) == "gap(server restart)")
        guard case .gap(let details)? = gap else { return }
        #expect(details.noticedAt == database.clock.start)
    }

    @Test func afterAFailoverTheGapSaysSo() async throws {
        let database = ScriptedDatabase(host: "primary.test")
        let client = PostgresClient.testing(database)
        var events = client.listen(to: "orders").makeAsyncIterator()
        #expect(Self.describe(try await events.next()) == "listening")
        database.host = "standby.test"
        database.terminateSessions(with: .immediateShutdown)
        try await database.clock.run(for: .seconds(1))
        #expect(Self.describe(try await Self.nextSettled(&events)) == "gap(failover)")
        #expect(database.connects.last?.host == "standby.test")
    }

    @Test func cancellingTheConsumerClosesTheSession() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        let consumer = Task {
            var received: [String] = []
            for try await event in client.listen(to: "orders") { received.append(Self.describe(event)) }
            return received
        }
        try await Self.eventually { database.openSessions == [1] && !database.statements(matching: "LISTEN").isEmpty }
        consumer.cancel()
        // The iteration ends without an error, after at most "listening".
        #expect(try await consumer.value.count <= 1)
        try await Self.eventually { database.openSessions.isEmpty }
        #expect(database.closedSessions == [1])
    }

    @Test func leavingTheLoopClosesTheSession() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        for try await event in client.listen(to: "orders") {
            if case .listening = event { break }
        }
        try await Self.eventually { database.closedSessions == [1] }
        #expect(database.openSessions.isEmpty)
    }

    @Test func shuttingTheClientDownEndsItsListenersAndClosesTheirSessions() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        var events = client.listen(to: "orders").makeAsyncIterator()
        #expect(Self.describe(try await events.next()) == "listening")
        await client.shutdown()
        #expect(database.openSessions.isEmpty)
        #expect(try await events.next() == nil)
        // A listener started afterwards ends at once, without a session.
        var later = client.listen(to: "orders").makeAsyncIterator()
        #expect(try await later.next() == nil)
        #expect(database.connects.count == 1)
    }

    @Test func aSilentSessionIsCheckedAndAHungOneReplaced() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        let options = ListenOptions(livenessCheckInterval: .seconds(30))
        var events = client.listen(to: "orders", options: options).makeAsyncIterator()
        #expect(Self.describe(try await events.next()) == "listening")
        // Silent for 30 s: an empty statement checks the session, and the listener waits again.
        let sent = database.statements.count
        database.clock.advance(to: try await database.clock.nextSleep().deadline)
        try await database.waitForStatements(count: sent + 1)
        #expect(database.statements.last?.sql == "")
        // The server then hangs: the next check meets its connect-timeout deadline, and the session is replaced.
        database.fail("", with: .hang)
        database.clock.advance(to: try await database.clock.nextSleep().deadline)
        try await database.clock.run(for: client.configuration.connectTimeout + .seconds(1))
        let gap = try await Self.nextSettled(&events)
        #expect(Self.describe(gap) == "gap(network)")
        #expect(database.connects.count == 2)
        #expect(database.closedSessions == [1])
    }

    @Test func aProbeThatDoesNotComeBackStopsTheListenerWithAClearError() async throws {
        let database = ScriptedDatabase()
        // As behind a pooler in transaction mode: the notification goes to some other server session.
        database.answer(.sql("SELECT pg_notify($1, $2)"), with: .value("", column: "pg_notify"))
        let client = PostgresClient.testing(database)
        var events = client.listen(to: "orders").makeAsyncIterator()
        let probeWait = try await database.clock.nextSleep()
        #expect(probeWait.duration == ListenOptions().probeTimeout)
        // The session answers the round trip that follows, and the notification still stays away.
        database.clock.advance(to: probeWait.deadline)
        await #expect {
            _ = try await events.next()
        } throws: { error in
            (error as? ListenerError)?.code == .behindPooler
                && "\(error)".contains("Configuration.listenConnection")
        }
        try await Self.eventually { database.openSessions.isEmpty }
        #expect(try await events.next() == nil)
    }

    @Test func aProbeLostOnAReconnectIsRetriedNotFatal() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        var events = client.listen(to: "orders").makeAsyncIterator()
        #expect(Self.describe(try await events.next()) == "listening")
        // The next probe is answered but never delivered, as in a network stall.
        let swallowNext = Mutex(true)
        database.answer(.sql("SELECT pg_notify($1, $2)")) { [weak database] statement in
            if !swallowNext.withLock({ swallow in defer { swallow = false }; return swallow }) {
                database?.notify(
                    (try? statement.parameter(0, as: String.self)) ?? "",
                    payload: (try? statement.parameter(1, as: String.self)) ?? "",
                    backendPID: Int32(statement.connection)
                )
            }
            return .value("", column: "pg_notify")
        }
        database.terminateSessions()
        try await database.clock.run(for: .seconds(20))
        #expect(Self.describe(try await Self.nextSettled(&events)) == "gap(session terminated)")
        #expect(database.connects.count == 3)
    }

    @Test func broadAnswerRulesDoNotShadowWhatAListenerSends() async throws {
        let database = ScriptedDatabase()
        database.answer(.prefix("SELECT"), with: .rows(["n"], [[1]]))
        database.answer(.prefix("LISTEN"), with: .command("SELECT 1"))
        let client = PostgresClient.testing(database)
        var events = client.listen(to: "orders").makeAsyncIterator()
        #expect(Self.describe(try await events.next()) == "listening")
        database.notify("orders", payload: "1")
        #expect(Self.describe(try await events.next()) == "orders 1 from 0")
        #expect(database.unscriptedStatements.isEmpty)
    }

    @Test(arguments: [[""], [String(repeating: "x", count: 64)], ["a\u{0}b"], []])
    func aBadChannelNameEndsTheIterationWithAnError(channels: [String]) async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        var events = client.listen(to: channels).makeAsyncIterator()
        await #expect {
            _ = try await events.next()
        } throws: { error in
            (error as? ListenerError)?.code == .invalidChannelName
        }
        #expect(try await events.next() == nil)
        #expect(database.connects.isEmpty)
    }
}
