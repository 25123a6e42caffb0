import PostgresTransport
import ResilientPostgres
import Testing

extension PrimaryStandbyTests {
    /// A frozen old primary listed first (it accepts TCP and never answers), then the standby, then the primary:
    /// each connect leaves the frozen host after its connect timeout, skips the read-only standby, and lands on the
    /// primary.
    @Test func frozenHostListedFirstIsLeftForTheNext() async throws {
        let frozen = try SilentPeer()
        defer { frozen.stop() }
        let client = Self.client(ports: [frozen.port, Self.standbyPort, Self.primaryPort]) {
            $0.hostConnectTimeout = .seconds(1)
        }
        let started = ContinuousClock.now
        let (inRecovery, port) = try await Self.whereIs(client)
        let elapsed = ContinuousClock.now - started
        #expect(!inRecovery)
        #expect(port == Self.primaryPort)
        #expect(elapsed >= .seconds(1))
        #expect(elapsed < .seconds(3))
        await client.shutdown()
    }
}
