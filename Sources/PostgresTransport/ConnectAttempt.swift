internal import CLibPQ
import Foundation
import Synchronization

/// A connection handed from one owner to the next: between a connect's task and the threads that make its libpq
/// calls, then to the LibPQConnection that owns it from then on.
struct ConnectionHandle: @unchecked Sendable {
    // @unchecked Sendable: the PGconn is only ever used by one owner at a time; each hand-over (a queued call and
    // its answer, the connect's outcome) orders what the last owner did before what the next one does.
    let raw: OpaquePointer
}

/// One non-blocking connect (`PQconnectStartParams` + `PQconnectPoll`), bounded by a deadline, which libpq does not
/// enforce for asynchronous connects.
///
/// The connect runs in a task of its own that prefers the connection's I/O thread: it waits for the socket there,
/// and makes each libpq call on ``BlockingPool/connects``, since libpq can block inside them: it resolves host
/// names there (`getaddrinfo`), and reads certificate and key files while setting TLS up. So the caller never
/// waits for the connect past the deadline or past its task's cancellation: it gets its answer then, and the
/// connect, once libpq lets it go, finishes on its own and closes what it opened.
final class ConnectAttempt: Sendable {
    typealias Outcome = Result<ConnectionHandle, TransportError>

    private let parameters: ConnectionParameters
    private let deadline: ContinuousClock.Instant
    /// Whether the deadline is one host's connect timeout rather than the end of the whole connect.
    private let deadlineIsHostTimeout: Bool
    /// The thread the connection will run on, whose readiness the connect waits with.
    private let thread: IOThread
    /// The connect's socket waits; the descriptor changes as libpq moves from one address to the next, the
    /// registration (which a cancellation ends) does not.
    private let registration: SocketReadiness.Registration
    private let isCancelled = Atomic<Bool>(false)
    private let handoff = Mutex(Handoff())
    /// The host and port libpq is connecting to, as it last said: named by a failure reported while it is busy.
    private let endpoint: Mutex<Endpoint>

    /// The outcome on its way to the caller, who gets exactly one: the connect's, or an earlier one at the
    /// deadline or on cancellation.
    private struct Handoff {
        /// The caller, once it waits.
        var continuation: UnsafeContinuation<Outcome, Never>?
        /// An outcome that came before the caller waited.
        var early: Outcome?
        /// Whether the caller has (or is about to have) its outcome; any later one is dropped.
        var isSettled = false
        /// Whether the connect's task is done with the socket: a cancellation has no wait left to end.
        var isConnectOver = false
    }

    init(
        parameters: ConnectionParameters,
        deadline: ContinuousClock.Instant,
        deadlineIsHostTimeout: Bool = false,
        thread: IOThread
    ) {
        self.parameters = parameters
        self.deadline = deadline
        self.deadlineIsHostTimeout = deadlineIsHostTimeout
        self.thread = thread
        self.registration = thread.readiness.register(-1)
        self.endpoint = Mutex(Self.firstEndpoint(of: parameters))
    }

    /// Connects and returns when connected or failed, at the deadline, or when the calling task is cancelled,
    /// whichever comes first.
    func connect() async -> Outcome {
        Task(executorPreference: thread.taskExecutor) { [self] in
            let outcome = await run()
            handoff.withLock { $0.isConnectOver = true }
            // A cancellation may have left a deadline for a wait that never came.
            thread.readiness.discardPendingDeadline(of: registration)
            if !settle(outcome), case .success(let handle) = outcome {
                PQfinish(handle.raw)  // no one is waiting for it any more
            }
        }
        return await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                // The connect ends at the deadline itself, unless libpq keeps it inside a call.
                group.addTask { [self] in
                    guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
                    settle(.failure(deadlineExceeded(at: endpoint.withLock { $0 })))
                }
                let outcome = await withUnsafeContinuation { wait($0) }
                group.cancelAll()
                return outcome
            }
        } onCancel: {
            cancel()
        }
    }

    /// Ends the connect: the caller is answered at once, the connect stops at its next look.
    func cancel() {
        isCancelled.store(true, ordering: .relaxed)
        handoff.withLock { handoff in
            // Under the lock, so that the deadline cannot be left behind once the connect is over.
            if !handoff.isConnectOver { thread.readiness.shortenDeadline(of: registration, to: .now) }
        }
        let endpoint = endpoint.withLock { $0 }
        settle(.failure(TransportError(code: .cancelled, message: "cancelled while connecting",
                                       host: endpoint.host, port: endpoint.port,
                                       phase: .connecting, isConnectionUsable: false)))
    }

    private func wait(_ continuation: UnsafeContinuation<Outcome, Never>) {
        let early = handoff.withLock { handoff -> Outcome? in
            if let early = handoff.early {
                handoff.early = nil
                return early
            }
            handoff.continuation = continuation
            return nil
        }
        early.map { continuation.resume(returning: $0) }
    }

    /// Gives the caller `outcome` unless it has one already; returns whether it was taken.
    @discardableResult
    private func settle(_ outcome: Outcome) -> Bool {
        let (taken, continuation) = handoff.withLock { handoff -> (Bool, UnsafeContinuation<Outcome, Never>?) in
            guard !handoff.isSettled else { return (false, nil) }
            handoff.isSettled = true
            guard let continuation = handoff.continuation else {
                handoff.early = outcome
                return (true, nil)
            }
            handoff.continuation = nil
            return (true, continuation)
        }
        continuation?.resume(returning: outcome)
        return taken
    }

    private func deadlineExceeded(at endpoint: Endpoint) -> TransportError {
        TransportError(code: .connectDeadlineExceeded,
                       message: deadlineIsHostTimeout
                           ? "no session established within the host's connect timeout"
                           : "no session established before the connect deadline",
                       host: endpoint.host, port: endpoint.port, phase: .connecting, isConnectionUsable: false)
    }

    // MARK: - The connect's own task

    /// Connects, until connected, failed, past the deadline or cancelled.
    private func run() async -> Outcome {
        let parameters = self.parameters
        guard let handle = await BlockingPool.connects.run({ Self.start(parameters) }) else {
            return .failure(TransportError(code: .connectFailed, message: "out of memory", phase: .connecting,
                                           isConnectionUsable: false))
        }
        let connection = handle.raw
        // The SQLSTATE only reaches a connect failure's message with verbose errors, set before the first poll.
        PQsetErrorVerbosity(connection, PQERRORS_VERBOSE)
        if PQstatus(connection) == CONNECTION_BAD {
            return .failure(fail(connection))
        }
        // "If PQconnectStart succeeds, ... act as if it last returned PGRES_POLLING_WRITING."
        var status = PGRES_POLLING_WRITING
        while true {
            publishEndpoint(of: connection)
            switch status {
            case PGRES_POLLING_OK:
                guard PQsetnonblocking(connection, 1) == 0 else {
                    return .failure(fail(connection))
                }
                return .success(handle)
            case PGRES_POLLING_FAILED:
                return .failure(fail(connection))
            default:
                // The socket can change between polls (libpq moves on to the next host or address).
                let interest: SocketReadiness.Interest = status == PGRES_POLLING_READING ? .readable : .writable
                if let error = await waitForSocket(of: connection, interest) {
                    PQfinish(connection)
                    return .failure(error)
                }
                status = await BlockingPool.connects.run { PQconnectPoll(handle.raw) }
            }
        }
    }

    private static func start(_ parameters: ConnectionParameters) -> ConnectionHandle? {
        let keywords = parameters.options.map { strdup($0.keyword) } + [nil]
        let values = parameters.options.map { strdup($0.value) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let connection = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywords in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
                PQconnectStartParams(keywords.baseAddress, values.baseAddress, 0)
            }
        }
        return connection.map(ConnectionHandle.init)
    }

    /// Waits until the socket is ready; returns the error that ends the connect instead, if any.
    private func waitForSocket(of connection: OpaquePointer, _ interest: SocketReadiness.Interest) async
        -> TransportError?
    {
        let registration = SocketReadiness.Registration(id: registration.id, descriptor: PQsocket(connection))
        while true {
            if isCancelled.load(ordering: .relaxed) {
                return TransportError(code: .cancelled, message: "cancelled while connecting",
                                      host: Self.host(of: connection), port: Self.port(of: connection),
                                      phase: .connecting, isConnectionUsable: false)
            }
            if ContinuousClock.now >= deadline {
                return deadlineExceeded(at: Endpoint(host: Self.host(of: connection), port: Self.port(of: connection)))
            }
            if await thread.readiness.wait(for: interest, on: registration, deadline: deadline) == .ready {
                return nil
            }
        }
    }

    private func fail(_ connection: OpaquePointer) -> TransportError {
        let error = TransportError.fromConnectMessage(
            String(cString: PQerrorMessage(connection)),
            host: Self.host(of: connection),
            port: Self.port(of: connection)
        )
        PQfinish(connection)
        return error
    }

    private func publishEndpoint(of connection: OpaquePointer) {
        let current = Endpoint(host: Self.host(of: connection), port: Self.port(of: connection))
        endpoint.withLock { $0 = current }
    }

    /// The first host and port the parameters name, for a failure reported before libpq said where it connects.
    private static func firstEndpoint(of parameters: ConnectionParameters) -> Endpoint {
        func first(_ keyword: String) -> String? {
            parameters[keyword]?.split(separator: ",", omittingEmptySubsequences: false).first
                .flatMap { $0.isEmpty ? nil : String($0) }
        }
        return Endpoint(host: first("host") ?? first("hostaddr"), port: first("port").flatMap { Int($0) })
    }

    static func host(of connection: OpaquePointer) -> String? {
        PQhost(connection).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func port(of connection: OpaquePointer) -> Int? {
        PQport(connection).flatMap { Int(String(cString: $0)) }
    }
}
