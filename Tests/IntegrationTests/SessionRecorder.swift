import PostgresTransport
import ResilientPostgres
import Synchronization

/// Real libpq sessions for one client, and a record of what its pool did with them: how many it opened and closed,
/// and every reset it ran before lending one again (with or without `DEALLOCATE ALL`, and whether it failed).
final class SessionRecorder: Sendable {
    struct Reset: Sendable, Equatable {
        var deallocatedPreparedStatements: Bool
        /// The reset's error, as the server or libpq put it; nil when it succeeded.
        var failure: String?
    }

    private struct State {
        var connects = 0
        var closes = 0
        var resets: [Reset] = []
    }

    private let state = Mutex(State())

    var connects: Int { state.withLock { $0.connects } }
    var closes: Int { state.withLock { $0.closes } }
    var resets: [Reset] { state.withLock { $0.resets } }

    /// A client of `configuration` whose sessions this recorder watches.
    func client(_ configuration: PostgresClient.Configuration) -> PostgresClient {
        let capacity = switch configuration.statementCaching {
        case .unnamed: 0
        case .prepared(let capacity): capacity
        }
        let connector = Connector(
            real: LibPQConnector(
                parameters: configuration.connection,
                connectTimeout: configuration.connectTimeout,
                options: LibPQConnection.Options(
                    cancelGracePeriod: configuration.cancelGracePeriod,
                    preparedStatementCapacity: capacity,
                    hostConnectTimeout: configuration.hostConnectTimeout
                )
            ),
            recorder: self
        )
        return PostgresClient(configuration: configuration, connector: connector)
    }

    fileprivate func recordConnect() { state.withLock { $0.connects += 1 } }
    fileprivate func recordClose() { state.withLock { $0.closes += 1 } }
    fileprivate func record(_ reset: Reset) { state.withLock { $0.resets.append(reset) } }

    private struct Connector: DatabaseConnector {
        let real: LibPQConnector
        let recorder: SessionRecorder

        func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
            let session = try await real.connect(deadline: deadline)
            recorder.recordConnect()
            return Session(real: session, recorder: recorder)
        }
    }

    /// A real session that reports its resets and its close to the recorder, and otherwise only passes calls on.
    private final class Session: DatabaseConnection {
        let real: any DatabaseConnection
        let recorder: SessionRecorder

        init(real: any DatabaseConnection, recorder: SessionRecorder) {
            self.real = real
            self.recorder = recorder
        }

        var host: String? { real.host }
        var port: Int? { real.port }
        var serverProcess: ServerProcess? { real.serverProcess }

        func execute(
            _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
        ) async throws -> QueryResult {
            try await real.execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }

        func executePrepared(
            _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
        ) async throws -> QueryResult {
            try await real.executePrepared(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }

        func executeBatch(
            _ statements: [BatchStatement], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
        ) async throws -> [QueryResult] {
            try await real.executeBatch(statements, resultFormat: resultFormat, deadline: deadline)
        }

        func startRows(
            _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
        ) async throws {
            try await real.startRows(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }

        func nextRows(maximumCount: Int, deadline: ContinuousClock.Instant?) async throws -> [QueryResult]? {
            try await real.nextRows(maximumCount: maximumCount, deadline: deadline)
        }

        func stopStreaming() async { await real.stopStreaming() }

        var isReadyForReuse: Bool { real.isReadyForReuse }
        func reportsHotStandby() async -> Bool? { await real.reportsHotStandby() }

        func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {
            do {
                try await real.resetSession(
                    deallocatingPreparedStatements: deallocatingPreparedStatements, deadline: deadline
                )
                recorder.record(Reset(deallocatedPreparedStatements: deallocatingPreparedStatements, failure: nil))
            } catch {
                let failure = (error as? TransportError)?.message ?? String(describing: error)
                recorder.record(Reset(deallocatedPreparedStatements: deallocatingPreparedStatements, failure: failure))
                throw error
            }
        }

        func close() async {
            await real.close()
            recorder.recordClose()
        }
    }
}
