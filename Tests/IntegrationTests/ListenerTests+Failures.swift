import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

extension ListenerTests {
    /// The primary crashes and its standby is promoted: the listener follows, through the same host list, and says
    /// it was a failover; then the servers are put back in their roles.
    @Test func afterAFailoverTheListenerResumesOnThePromotedStandby() async throws {
        let channel = IntegrationServers.unique("failover")
        let ports = [Self.port, Self.standbyPort]
        let listener = Self.client(ports: ports)
        let sender = Self.client(ports: ports)
        let recording = ListenerRecording(listener.listen(to: channel))
        try await withCleanup {
            try await recording.wait("listening") { $0.hasListened }
            try await sender.notify(channel, payload: "1")
            try await recording.wait("the first notification") { $0.numbers == [1] }

            try await Servers.cluster("stop", "listen", "immediate")
            try await Servers.cluster("promote", "listen-standby")
            try await recording.wait("a gap") { !$0.gaps.isEmpty }
            // The sender's pooled session died with the old primary: a notification sent twice is harmless here.
            try await sender.notify(channel, payload: "2", options: .idempotent)
            try await recording.wait("the notification from the new primary") { $0.numbers == [1, 2] }
            let gaps = recording.snapshot.gaps
            #expect(gaps.map(\.reason) == [.failover])
            #expect(gaps.first?.failure?.port == Int(Self.port))
        } cleanup: {
            recording.stop()
            await listener.shutdown()
            await sender.shutdown()
            try await Self.failBack()
        }
    }

    /// Puts `listen` and `listen-standby` back in their roles and on their ports after a failover.
    static func failBack() async throws {
        try await Servers.cluster("start-standby", "listen", "listen-standby")
        try await Servers.cluster("stop", "listen-standby", "immediate")
        try await Servers.cluster("promote", "listen")
        try await Servers.cluster("start-standby", "listen-standby", "listen")
    }

    /// The network drops every packet: keepalives and `tcp_user_timeout` notice, the listener says it is trying,
    /// and once the network is back it listens again and reports the gap.
    @Test(.enabled(if: BlackHole.isAvailable, "needs nftables, as root"))
    func aBlackHoledNetworkIsNoticedWithinTheKeepaliveBoundAndRecovered() async throws {
        let channel = IntegrationServers.unique("hole")
        let listener = Self.client { configuration in
            var parameters = configuration.connection
            for (keyword, value) in [
                ("keepalives_idle", "1"), ("keepalives_interval", "1"), ("keepalives_count", "2"),
                ("tcp_user_timeout", "3000"),
            ] { parameters[keyword] = value }
            configuration.listenConnection = parameters
        }
        let sender = Self.client()
        let hole = BlackHole(port: Self.port)
        let recording = ListenerRecording(listener.listen(to: channel))
        try await withCleanup {
            try await recording.wait("listening") { $0.hasListened }
            try await hole.close()
            let cutOff = ContinuousClock.now
            try await recording.wait("the loss") { $0.retries > 0 }
            // Keepalives give up after idle 1 s + 2 probes × 1 s = 3 s (tcp_user_timeout, 3 s, agrees); the loss is
            // reported as it is noticed. 7 s more for a loaded machine's timers and scheduling.
            let noticedWithin = Duration.seconds(1 + 1 * 2) + .seconds(7)
            #expect(cutOff.duration(to: .now) < noticedWithin)
            try await hole.open()
            try await recording.wait("a gap") { !$0.gaps.isEmpty }
            #expect(recording.snapshot.gaps.map(\.reason) == [.network])
            try await sender.notify(channel, payload: "1")
            try await recording.wait("delivery after the gap") { $0.numbers == [1] }
        } cleanup: {
            try? await hole.open()
            recording.stop()
            await listener.shutdown()
            await sender.shutdown()
        }
    }
}

extension ListenerTests {
    /// The listener's server process hangs (stopped, while the kernel still answers for it): keepalives see nothing
    /// wrong, the liveness check does, and the listener moves to a new session.
    @Test func aHungServerProcessIsFoundByTheLivenessCheckAndReplaced() async throws {
        let name = IntegrationServers.unique("hung_listener")
        let client = Self.client { configuration in
            configuration.connection["application_name"] = name
            configuration.connectTimeout = .seconds(2)
            configuration.cancelGracePeriod = .seconds(1)
        }
        let options = ListenOptions(livenessCheckInterval: .seconds(1))
        let recording = ListenerRecording(client.listen(to: "hung", options: options))
        let observer = try await IntegrationServers.superuserSession(port: Self.port)
        var stopped: String?
        try await withCleanup {
            try await recording.wait("listening") { $0.hasListened }
            let backend = try await observer.execute(
                "SELECT pid::text FROM pg_stat_activity WHERE application_name = $1", parameters: [.text(name)]
            )
            let pid = try #require(backend.string(row: 0, column: 0))
            stopped = pid
            try await ChildProcess.run(["kill", "-STOP", pid])
            try await recording.wait("a gap") { !$0.gaps.isEmpty }
            #expect(recording.snapshot.gaps.map(\.reason) == [.network])
            try await client.notify("hung", payload: "1")
            try await recording.wait("delivery on the new session") { $0.numbers == [1] }
        } cleanup: {
            if let stopped { try? await ChildProcess.run(["kill", "-CONT", stopped]) }
            recording.stop()
            await observer.close()
            await client.shutdown()
        }
    }
}
