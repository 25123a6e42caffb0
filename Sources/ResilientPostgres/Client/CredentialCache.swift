import PostgresTransport
import Synchronization

/// The credential new sessions sign in with: fetched from the app's ``CredentialProvider`` one fetch at a time, and
/// kept until ``CredentialProvider/refreshMargin`` before it expires.
///
/// A connect that finds a credential still good takes it under the lock, without waiting. Otherwise it waits for
/// the fetch under way, starting one if none is: however many connects want a credential at once, the provider runs
/// once. The fetch runs in a task of the cache's own, so a connect that gives up waiting (cancelled, or at its
/// deadline) leaves it running for the others; ``shutdown()`` cancels it and waits for it to end.
final class CredentialCache: Sendable {
    /// A credential for one connect, and whether it was kept from an earlier fetch (it may have expired since)
    /// rather than fetched while the connect waited.
    struct Handout {
        var credential: Credential
        var wasKept: Bool
    }

    /// Where a connect waiting for the fetch stands.
    private enum Waiter {
        /// Registered; its continuation is not stored yet.
        case pending
        case waiting(CheckedContinuation<Credential, any Error>)
        /// The fetch ended before the continuation was stored.
        case finished(Result<Credential, any Error>)
        /// Cancelled before the continuation was stored.
        case cancelled
    }

    private struct State {
        var kept: Credential?
        /// When the kept credential stops serving new sessions, or nil for never (until a rejection drops it).
        var refreshAt: ContinuousClock.Instant?
        /// The fetch under way.
        var fetch: Task<Void, Never>?
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
        var isShutDown = false
    }

    private let provider: CredentialProvider
    private let clock: any ClientClock
    private let state = Mutex(State())

    init(provider: CredentialProvider, clock: any ClientClock) {
        self.provider = provider
        self.clock = clock
    }

    /// A credential for a connect that must start before `deadline`: the kept one if it is still good, or the one
    /// the fetch under way (or a new one) returns.
    ///
    /// - Throws: `TransportError` with code `credentialUnavailable` when the provider fails or has not answered by
    ///   `deadline` (the fetch goes on for later connects); `TransportError` with code `cancelled` when the task is
    ///   cancelled; `ConnectionPool.ShutDown` once the client is shut down.
    func credential(deadline: ContinuousClock.Instant) async throws -> Handout {
        let now = clock.now
        let (kept, waiter): (Credential?, Int) = try state.withLock { state in
            guard !state.isShutDown else { throw ConnectionPool.ShutDown() }
            if let kept = state.kept, state.refreshAt.map({ now < $0 }) ?? true { return (kept, 0) }
            let waiter = state.nextWaiter
            state.nextWaiter += 1
            state.waiters[waiter] = .pending
            // Made under the lock, so that a shutdown always finds it; it takes the lock only to finish.
            if state.fetch == nil { state.fetch = Task { finish(await fetch()) } }
            return (nil, waiter)
        }
        if let kept { return Handout(credential: kept, wasKept: true) }
        let credential = try await withThrowingTaskGroup(of: Credential?.self) { group in
            group.addTask { try await self.wait(waiter) }
            group.addTask {
                // Ends early, cancelled, once the fetch has answered.
                try? await self.clock.sleep(until: deadline, tolerance: nil)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        guard let credential else {
            if Task.isCancelled { throw Self.cancelled }
            throw TransportError(
                code: .credentialUnavailable, message: "the credential provider did not answer before the deadline",
                phase: .connecting, isConnectionUsable: false
            )
        }
        return Handout(credential: credential, wasKept: false)
    }

    /// Drops `credential` if it is still the kept one: the server refused it.
    func drop(_ credential: Credential) {
        state.withLock { state in
            guard state.kept == credential else { return }
            state.kept = nil
            state.refreshAt = nil
        }
    }

    /// Refuses every later connect, fails the waiting ones, and cancels the fetch under way and waits for it to end
    /// (at once: a provider call that does not heed its cancellation is abandoned).
    func shutdown() async {
        let (fetch, waiting) = state.withLock { state in
            state.isShutDown = true
            state.kept = nil
            let waiting = state.waiters.values.compactMap { waiter in
                if case .waiting(let continuation) = waiter { continuation } else { nil }
            }
            state.waiters.removeAll()
            return (state.fetch, waiting)
        }
        for continuation in waiting { continuation.resume(throwing: ConnectionPool.ShutDown()) }
        fetch?.cancel()
        await fetch?.value
    }

    // MARK: - The fetch

    /// Calls the provider for at most its ``CredentialProvider/fetchTimeout``; its error becomes a connect failure
    /// that keeps it.
    ///
    /// A call that has not answered by then is cancelled and abandoned (an answer it gives later is dropped), and
    /// the fetch fails as ``TransportError/Code/credentialUnavailable``, which is retried: the next connect starts a
    /// new call. A provider that hangs therefore holds new sessions for one timeout at most, never until shutdown;
    /// and a cancelled fetch (at shutdown) ends at once, whether the call heeds its cancellation or not.
    private func fetch() async -> Result<Credential, any Error> {
        let answer = FirstAnswer()
        // Detached: the call serves every connect that waits for it, so it takes nothing of the first one's task
        // (its operation's deadline, its task-locals).
        let call = Task.detached { [provider] in
            do {
                answer.give(.answered(.success(try await provider.fetch())))
            } catch {
                answer.give(.answered(.failure(error)))
            }
        }
        let timer = Task { [clock, timeout = provider.fetchTimeout] in
            do {
                try await clock.sleep(until: clock.now.advanced(by: timeout), tolerance: nil)
                answer.give(.timedOut)
            } catch {
                // Cancelled: the call answered first.
            }
        }
        let outcome = await withTaskCancellationHandler {
            await answer.value
        } onCancel: {
            answer.give(.cancelled)
        }
        call.cancel()
        timer.cancel()
        switch outcome {
        case .answered(.success(let credential)):
            return .success(credential)
        case .answered(.failure(let error)):
            return .failure(Self.unavailable(error))
        case .timedOut:
            return .failure(TransportError(
                code: .credentialUnavailable,
                message: "the credential provider did not answer within \(provider.fetchTimeout)",
                phase: .connecting, isConnectionUsable: false
            ))
        case .cancelled:
            return .failure(Self.cancelled)
        }
    }

    /// Keeps what the fetch returned (unless it is good for less than the refresh margin) and hands it to every
    /// waiting connect.
    private func finish(_ result: Result<Credential, any Error>) {
        let now = clock.now
        let waiting = state.withLock { state -> [CheckedContinuation<Credential, any Error>] in
            state.fetch = nil
            if case .success(let credential) = result, !state.isShutDown {
                let refreshAt = credential.validFor.map { now.advanced(by: $0 - provider.refreshMargin) }
                let keeps = refreshAt.map { now < $0 } ?? true
                state.kept = keeps ? credential : nil
                state.refreshAt = keeps ? refreshAt : nil
            }
            var waiting: [CheckedContinuation<Credential, any Error>] = []
            for (id, waiter) in state.waiters {
                switch waiter {
                case .waiting(let continuation):
                    waiting.append(continuation)
                    state.waiters[id] = nil
                case .pending:
                    state.waiters[id] = .finished(result)
                case .finished, .cancelled:
                    break
                }
            }
            return waiting
        }
        for continuation in waiting { continuation.resume(with: result) }
    }

    /// The provider's error as a connect failure that keeps it.
    private static func unavailable(_ error: any Error) -> TransportError {
        let providerError = (error as? CredentialError)?.underlyingError ?? error
        var failure = TransportError(
            code: .credentialUnavailable,
            // The type only: the provider's own text is the app's, and may quote what it was given.
            message: "the credential provider failed: \(type(of: providerError))",
            phase: .connecting, isConnectionUsable: false
        )
        failure.underlyingError = error
        return failure
    }

    // MARK: - Waiting for it

    /// Waits for the fetch's credential; a cancelled wait ends at once, leaving the fetch to the others.
    private func wait(_ waiter: Int) async throws -> Credential {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLock { state -> Result<Credential, any Error>? in
                    switch state.waiters[waiter] {
                    case .pending:
                        state.waiters[waiter] = .waiting(continuation)
                        return nil
                    case .finished(let result):
                        state.waiters[waiter] = nil
                        return result
                    case .cancelled:
                        state.waiters[waiter] = nil
                        return .failure(Self.cancelled)
                    case .waiting, nil:
                        // Removed by a shutdown.
                        return .failure(ConnectionPool.ShutDown())
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Credential, any Error>? in
                switch state.waiters[waiter] {
                case .waiting(let continuation):
                    state.waiters[waiter] = nil
                    return continuation
                case .pending:
                    state.waiters[waiter] = .cancelled
                    return nil
                case .finished, .cancelled, nil:
                    return nil
                }
            }
            continuation?.resume(throwing: Self.cancelled)
        }
    }

    /// What a connect whose task was cancelled while it waited for a credential reports, as a cancelled libpq
    /// connect does.
    private static var cancelled: TransportError {
        TransportError(
            code: .cancelled, message: "cancelled while waiting for a credential", phase: .connecting,
            isConnectionUsable: false
        )
    }
}

/// The first of a provider call's answer, its timeout and its cancellation, for the one fetch that waits for it.
private final class FirstAnswer: Sendable {
    enum Outcome: Sendable {
        case answered(Result<Credential, any Error>)
        case timedOut
        case cancelled
    }

    private struct State {
        var outcome: Outcome?
        var waiting: CheckedContinuation<Outcome, Never>?
    }

    private let state = Mutex(State())

    /// Records `outcome` unless another came first, and resumes the waiting fetch with it.
    func give(_ outcome: Outcome) {
        let waiting = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.waiting = nil }
            return state.waiting
        }
        waiting?.resume(returning: outcome)
    }

    /// The first outcome, once there is one.
    var value: Outcome {
        get async {
            await withCheckedContinuation { continuation in
                let outcome = state.withLock { state -> Outcome? in
                    if state.outcome == nil { state.waiting = continuation }
                    return state.outcome
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        }
    }
}
