import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// Whether the servers of ``ListenerTests`` were started.
enum ListenServers {
    static let available = Servers.environment.has("listen", "listen-standby", clusterScript: true)
    static let skipReason = Servers.environment.skipReason(needing: "listen", "listen-standby", clusterScript: true)
}

/// Listeners against real servers: the `listen` cluster and its streaming standby `listen-standby`, which no other
/// suite uses, and `bouncer` (pgbouncer in transaction mode in front of `main`).
///
/// Serialized: tests restart the cluster, cut it off and promote its standby; each leaves it as it found it.
@Suite(
    "Listening on real servers", .capturingLogs, .serialized,
    .enabled(if: ListenServers.available, ListenServers.skipReason)
)
struct ListenerTests {
    static var port: String { IntegrationServers.port("listen") ?? "5432" }
    static var standbyPort: String { IntegrationServers.port("listen-standby") ?? "5433" }

    /// A client of the `listen` cluster (or of the hosts at `ports`, in order), as role app.
    static func client(
        ports: [String] = [port],
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) -> PostgresClient {
        var parameters = IntegrationServers.appParameters(port: ports.joined(separator: ","))
        parameters["host"] = Array(repeating: "127.0.0.1", count: ports.count).joined(separator: ",")
        return PostgresClient(configuration: IntegrationServers.configuration(parameters, adjust))
    }

    @Test func tenThousandNotificationsArriveCompleteAndInOrderWithNoGap() async throws {
        let channel = IntegrationServers.unique("orders")
        let client = Self.client()
        let recording = ListenerRecording(client.listen(to: channel))
        try await withCleanup {
            try await recording.wait("listening") { $0.hasListened }
            for batch in 0..<100 {
                let (first, last) = (batch * 100 + 1, batch * 100 + 100)
                try await client.execute(
                    "SELECT pg_notify(\(channel), g::text) FROM generate_series(\(first), \(last)) g"
                )
            }
            try await recording.wait("10,000 notifications") { $0.numbers.count >= 10_000 }
            let seen = recording.snapshot
            #expect(seen.numbers == Array(1...10_000))
            #expect(seen.gaps.isEmpty)
            #expect(seen.retries == 0)
        } cleanup: {
            recording.stop()
            await client.shutdown()
        }
    }

    /// A restart in the middle of a stream of notifications: one gap, then delivery resumes, and every
    /// notification whose sending began once the listener listened again (the gap's `resumedAt`) arrives.
    @Test(arguments: ["fast", "immediate"])
    func aRestartIsExactlyOneGapAndDeliveryResumes(mode: String) async throws {
        let channel = IntegrationServers.unique("restart")
        let listener = Self.client()
        let sender = Self.client()
        let recording = ListenerRecording(listener.listen(to: channel))
        let stream = NotificationStream(client: sender, channel: channel)
        try await withCleanup {
            try await recording.wait("listening") { $0.hasListened }
            stream.start()
            try await recording.wait("notifications before the restart") { $0.numbers.count >= 20 }
            try await Servers.cluster("restart", "listen", mode)
            try await recording.wait("a gap") { !$0.gaps.isEmpty }
            let resumedAt = try #require(recording.snapshot.gaps.first?.resumedAt)
            try await recording.wait("notifications after the gap") { $0.numbersAfterGap.count >= 20 }
            let sentAfterGap = await stream.stop().filter { $0.began >= resumedAt }.map(\.number)
            #expect(!sentAfterGap.isEmpty)
            try await recording.wait("every notification sent once listening again") { seen in
                Set(sentAfterGap).isSubset(of: Set(seen.numbers))
            }
            let seen = recording.snapshot
            #expect(seen.gaps.map(\.reason) == [.serverRestart])
            #expect(seen.numbers == seen.numbers.sorted() && Set(seen.numbers).count == seen.numbers.count)
        } cleanup: {
            _ = await stream.stop()
            recording.stop()
            await listener.shutdown()
            await sender.shutdown()
        }
    }

    @Test func aSlowConsumerGetsTheBufferPolicyAndAGapForWhatWasDropped() async throws {
        let channel = IntegrationServers.unique("slow")
        let client = Self.client()
        var events = client.listen(to: channel, options: ListenOptions(bufferCapacity: 100)).makeAsyncIterator()
        guard case .listening? = try await events.next() else {
            Issue.record("expected listening first")
            return
        }
        try await client.execute("SELECT pg_notify(\(channel), g::text) FROM generate_series(1, 1000) g")
        // The consumer does not read until the listener has filled the buffer and dropped what came next.
        let givingUp = ContinuousClock.now.advanced(by: .seconds(60))
        while events.bufferedNotifications.dropped == 0, ContinuousClock.now < givingUp {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(events.bufferedNotifications.waiting == 100)
        var numbers: [Int] = []
        var dropped = 0
        var gaps = 0
        while numbers.count + dropped < 1000, let event = try await events.next() {
            switch event {
            case .notification(let notification): numbers.append(Int(notification.payload) ?? -1)
            case .gap(let gap):
                #expect(gap.reason == .consumerTooSlow)
                dropped += gap.droppedCount
                gaps += 1
            default: Issue.record("unexpected \(event)")
            }
        }
        // Nothing is dropped silently: every notification was delivered or counted in a gap, in order.
        #expect(numbers.count + dropped == 1000)
        #expect(gaps >= 1)
        #expect(numbers.prefix(100) == ArraySlice(1...100))
        #expect(numbers == numbers.sorted())
        await client.shutdown()
    }

    /// `idle_session_timeout` would end a listener's session, idle by design, every so often: the session turns
    /// it off for itself.
    @Test func anIdleSessionTimeoutDoesNotEndTheListenersSession() async throws {
        let channel = IntegrationServers.unique("idle")
        let listener = Self.client { configuration in
            var parameters = configuration.connection
            parameters["options"] = "-c idle_session_timeout=500"
            configuration.listenConnection = parameters
        }
        let recording = ListenerRecording(listener.listen(to: channel))
        try await withCleanup {
            try await recording.wait("listening") { $0.hasListened }
            try await Task.sleep(for: .seconds(2))
            try await listener.notify(channel, payload: "1")
            try await recording.wait("the notification") { $0.numbers == [1] }
            #expect(recording.snapshot.gaps.isEmpty)
            #expect(recording.snapshot.retries == 0)
        } cleanup: {
            recording.stop()
            await listener.shutdown()
        }
    }

    @Test func cancellingTheConsumerLeavesNoSessionOnTheServer() async throws {
        let name = IntegrationServers.unique("listener")
        let client = Self.client { configuration in
            var direct = configuration.connection
            direct["application_name"] = name
            configuration.listenConnection = direct
        }
        let recording = ListenerRecording(client.listen(to: "cancelled"))
        let observer = try await IntegrationServers.superuserSession(port: Self.port)
        func sessions() async throws -> Int {
            let result = try await observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", parameters: [.text(name)]
            )
            return Int(result.string(row: 0, column: 0) ?? "") ?? -1
        }
        try await recording.wait("listening") { $0.hasListened }
        #expect(try await sessions() == 1)
        recording.stop()
        // Gone within a second, as the session is closed when the consumer ends.
        let until = ContinuousClock.now.advanced(by: .seconds(1))
        var left = try await sessions()
        while left > 0, ContinuousClock.now < until {
            try await Task.sleep(for: .milliseconds(20))
            left = try await sessions()
        }
        #expect(left == 0)
        await observer.close()
        await client.shutdown()
    }

    @Test(.enabled(if: IntegrationServers.bouncer, IntegrationServers.bouncerSkipReason))
    func behindPgBouncerTheListenerFailsWithAClearErrorAndWorksConnectedDirectly() async throws {
        let bouncerPort = try #require(IntegrationServers.port("bouncer"))
        let mainPort = Servers.environment.main.port
        let pooled = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: bouncerPort)
        ))
        let failure = await #expect(throws: ListenerError.self) {
            let options = ListenOptions(probeTimeout: .seconds(2))
            for try await _ in pooled.listen(to: "through_bouncer", options: options) {}
        }
        #expect(failure?.code == .behindPooler)
        #expect(failure?.message.contains("connect listeners to the server directly") == true)
        #expect(failure?.message.contains("refusesPoolers") == true)
        await pooled.shutdown()

        // The pool through pgbouncer, listeners straight to the server.
        let split = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: bouncerPort)
        ) { $0.listenConnection = IntegrationServers.appParameters(port: mainPort) })
        let channel = IntegrationServers.unique("direct")
        var events = split.listen(to: channel).makeAsyncIterator()
        guard case .listening? = try await events.next() else {
            Issue.record("expected listening")
            return
        }
        try await split.notify(channel, payload: "through the pooler")
        guard case .notification(let notification)? = try await events.next() else {
            Issue.record("expected the notification")
            return
        }
        #expect(notification.payload == "through the pooler")
        await split.shutdown()
    }

    /// Through a pooler in session mode `LISTEN` works, but the pooler's made-up process id looks as in transaction
    /// mode: refused by default, with the way out in the message; accepted with `refusesPoolers` off.
    @Test(.enabled(if: IntegrationServers.bouncerInSessionMode, IntegrationServers.bouncerInSessionModeSkipReason))
    func aPoolerInSessionModeIsRefusedUnlessTheListenerIsToldToAcceptIt() async throws {
        let bouncerPort = try #require(IntegrationServers.port("bouncer-session"))
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: bouncerPort)
        ))
        let channel = IntegrationServers.unique("session_pooler")
        let failure = await #expect(throws: ListenerError.self) {
            for try await _ in client.listen(to: channel) {}
        }
        #expect(failure?.code == .behindPooler)
        #expect(failure?.message.contains("ListenOptions.refusesPoolers") == true)

        var events = client.listen(to: channel, options: ListenOptions(refusesPoolers: false)).makeAsyncIterator()
        guard case .listening? = try await events.next() else {
            Issue.record("expected listening")
            return
        }
        try await client.notify(channel, payload: "through a session pooler")
        guard case .notification(let notification)? = try await events.next() else {
            Issue.record("expected the notification")
            return
        }
        #expect(notification.payload == "through a session pooler")
        await client.shutdown()
    }
}
