import Foundation
import Synchronization

/// The cancellation state of the statement a connection is running: whether a cancel was requested (by the
/// caller's task or by the statement's deadline) and until when the server gets to answer it.
///
/// A request sends `PQcancel` on a thread of its own and bounds the statement's remaining wait by the grace period;
/// a server that does not answer by then is treated as hung, and the connection is closed.
final class StatementCancellation: Sendable {
    enum Reason: Sendable {
        case task
        case deadline
    }

    private struct State {
        var generation: UInt64 = 0
        var isActive = false
        var descriptor: Int32 = -1
        var reason: Reason?
        var graceDeadline: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let token: CancelToken?
    private let grace: Duration

    init(token: CancelToken?, grace: Duration) {
        self.token = token
        self.grace = grace
    }

    /// Marks the start of a statement on the connection's socket.
    func begin(descriptor: Int32) {
        state.withLock { state in
            state.generation &+= 1
            state.isActive = true
            state.descriptor = descriptor
            state.reason = nil
            state.graceDeadline = nil
        }
    }

    /// Marks the end of the statement; later requests do nothing.
    func end() {
        state.withLock { $0.isActive = false }
    }

    /// Why a cancel was requested for the running statement, and until when its answer is awaited; nil if none was.
    var request: (reason: Reason, graceDeadline: ContinuousClock.Instant)? {
        state.withLock { state in
            guard let reason = state.reason, let graceDeadline = state.graceDeadline else { return nil }
            return (reason, graceDeadline)
        }
    }

    /// Asks the server to cancel the running statement (once per statement); safe to call from any thread.
    func requestCancel(_ reason: Reason) {
        let request = state.withLock { state -> (UInt64, Int32, ContinuousClock.Instant)? in
            guard state.isActive, state.reason == nil else { return nil }
            let graceDeadline = ContinuousClock.now.advanced(by: grace)
            state.reason = reason
            state.graceDeadline = graceDeadline
            return (state.generation, state.descriptor, graceDeadline)
        }
        guard let (generation, descriptor, graceDeadline) = request else { return }
        SocketReadiness.shared.shortenDeadline(of: descriptor, to: graceDeadline)
        guard let token else { return }
        let thread = Thread { [self] in
            // The statement may have ended while this thread started; a cancel now would hit the next one.
            guard state.withLock({ $0.isActive && $0.generation == generation }) else { return }
            _ = token.send()
        }
        thread.name = "ResilientPostgres.cancel"
        thread.start()
    }
}
