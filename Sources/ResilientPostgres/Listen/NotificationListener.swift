import Logging
import PostgresPolicy
import PostgresTransport
import Synchronization

/// Runs one listener: its own session, outside the pool, kept listening until its consumer stops; the driver of a
/// ``ListenerStateMachine``, and the owner of the ``NotificationBuffer`` between it and the consumer.
///
/// One task, started with the consumer's iteration, connects, runs `LISTEN` for every channel, checks with a probe
/// that it reached the server itself, and then waits for notifications on the session's I/O thread, handing them to
/// the buffer. When the session is lost it reconnects (to the primary, as the connection's targeting says) and
/// listens again, reporting the gap. Ending the consumer's iteration (cancelling its task, or leaving the loop)
/// cancels that task, which closes the session.
final class NotificationListener: Sendable {
    private typealias Consumer = CheckedContinuation<Result<ListenEvent?, ListenerError>, Never>

    private struct Mailbox {
        var buffer: NotificationBuffer
        /// The consumer, waiting for the next event; only while the buffer is empty.
        var consumer: Consumer?
        var isFinished = false
        /// Why the listener stopped, for the consumer once it has taken every buffered event.
        var failure: ListenerError?
    }

    private let channels: [String]
    private let options: ListenOptions
    private let connector: any DatabaseConnector
    private let clock: any ClientClock
    private let backoff: Backoff
    private let setupTimeout: Duration
    private let logger: Logger
    private let seed: UInt64
    /// The channel of the probe: this listener's own, so that no one else receives it.
    private let probeChannel: String
    private let mailbox: Mutex<Mailbox>
    /// The listener's task while it runs; `stopped` once stopped, so that a stop that comes before the start
    /// (a client's shutdown, racing an iteration that begins) keeps it from starting.
    private let task = Mutex<(running: Task<Void, Never>?, stopped: Bool)>((nil, false))
    /// The client's listeners, which its shutdown stops.
    private let registry: ListenerRegistry

    init(client: PostgresClient, channels: [String], options: ListenOptions) {
        self.channels = channels
        self.options = options
        self.connector = client.listenConnector
        self.clock = client.clock
        self.backoff = client.configuration.retryPolicy.backoff
        self.setupTimeout = client.configuration.connectTimeout
        self.logger = client.logger
        self.registry = client.listeners
        var generator = client.makeGenerator()
        self.seed = generator.next()
        self.probeChannel = "resilient_postgres_probe_" + String(generator.next(), radix: 16)
        self.mailbox = Mutex(Mailbox(buffer: NotificationBuffer(capacity: max(1, options.bufferCapacity))))
    }

    /// Starts listening; the first event is ``ListenEvent/listening`` once `LISTEN` ran and its probe came back.
    /// A listener of a client that was shut down ends at once; one with a bad channel name ends with an error.
    func start() {
        let isValid = { (channel: String) in (1...63).contains(channel.utf8.count) && !channel.utf8.contains(0) }
        guard !channels.isEmpty, channels.allSatisfy(isValid) else {
            finish(throwing: ListenerError(
                code: .invalidChannelName, message: "listen to 1 or more channels, each 1 to 63 bytes without NUL"
            ))
            return
        }
        guard registry.add(self) else {
            finish(throwing: nil)
            return
        }
        task.withLock { task in
            guard task.running == nil, !task.stopped else { return }
            task.running = Task {
                await self.run()
                self.registry.remove(self)
            }
        }
    }

    /// Stops the listener and waits until its session is closed.
    func stopAndWait() async {
        stop()
        await task.withLock { $0.running }?.value
    }

    /// Stops the listener: its session closes, and the consumer's next event is the end.
    func stop() {
        let running = task.withLock { task in
            task.stopped = true
            return task.running
        }
        running?.cancel()
        let consumer = mailbox.withLock { mailbox in
            mailbox.isFinished = true
            mailbox.failure = nil
            mailbox.buffer = NotificationBuffer(capacity: 1)
            return mailbox.consumer.take()
        }
        consumer?.resume(returning: .success(nil))
    }

    /// The notifications waiting for the consumer, and those dropped since the buffer was last full.
    var bufferedNotifications: (waiting: Int, dropped: Int) {
        mailbox.withLock { ($0.buffer.notificationCount, $0.buffer.droppedCount) }
    }

    /// The next event, waiting for one on `isolation`; nil once the listener stopped. Cancelling the waiting task
    /// stops it.
    ///
    /// - Throws: ``ListenerError``, after every event received before it.
    func next(isolation: isolated (any Actor)?) async throws(ListenerError) -> ListenEvent? {
        // Taken without suspending while events wait, as they do for a consumer that is behind.
        if let ready = take(orWait: nil) { return try ready.get() }
        return try await withTaskCancellationHandler {
            await withCheckedContinuation(isolation: isolation) { continuation in
                if let ready = take(orWait: continuation) { continuation.resume(returning: ready) }
            }
        } onCancel: {
            stop()
        }.get()
    }

    /// The next event or the end, if there is one; otherwise nil, and `continuation` (if any) waits for it.
    private func take(
        orWait continuation: Consumer?
    ) -> Result<ListenEvent?, ListenerError>? {
        let now = clock.now
        return mailbox.withLock { mailbox -> Result<ListenEvent?, ListenerError>? in
            precondition(mailbox.consumer == nil, "one task at a time iterates a listener")
            if let event = mailbox.buffer.take(now: now) { return .success(event) }
            if mailbox.isFinished {
                defer { mailbox.failure = nil }
                return mailbox.failure.map { .failure($0) } ?? .success(nil)
            }
            mailbox.consumer = continuation
            return nil
        }
    }

    // MARK: - The listener's task

    private func run() async {
        var machine = ListenerStateMachine(backoff: backoff)
        var generator = SplitMix64(seed: seed)
        while !Task.isCancelled {
            do {
                try await listen(&machine, using: &generator)
            } catch let error as ListenerError {
                logger.error("listener stopped", metadata: ["reason": "\(error)"])
                finish(throwing: error)
                return
            } catch {
                if Task.isCancelled { break }
                let retry = machine.failed(error as? TransportError, now: clock.now, using: &generator)
                if case .reconnecting(let status) = retry.event {
                    logger.info("listener reconnecting", metadata: [
                        "failed_attempts": "\(status.failedAttempts)", "error": "\(error)",
                        "next_attempt_in": "\(retry.delay)",
                    ])
                }
                deliver([retry.event])
                if retry.delay > .zero {
                    do {
                        try await clock.sleep(until: clock.now.advanced(by: retry.delay), tolerance: nil)
                    } catch {
                        break
                    }
                }
            }
        }
        finish(throwing: nil)
    }

    /// Opens a session, listens on it, and hands over its notifications until it is lost (thrown) or the task is
    /// cancelled; the session is closed either way.
    private func listen(
        _ machine: inout ListenerStateMachine,
        using generator: inout SplitMix64
    ) async throws {
        let connection = try await connector.connect(deadline: clock.now.advanced(by: setupTimeout))
        do {
            guard let session = connection as? any NotificationReceiving else {
                throw ListenerError(
                    code: .sessionCannotListen, message: "this kind of session cannot wait for notifications",
                    host: connection.host, port: connection.port
                )
            }
            let identity = try await runListen(on: session)
            let early = try await probe(
                session, token: String(generator.next(), radix: 16), hasListened: machine.hasListened
            )
            let event = machine.listened(on: identity, now: clock.now)
            if case .gap(let gap) = event {
                logger.notice("listener resumed; notifications may have been missed", metadata: [
                    "reason": "\(gap.reason)", "host": "\(identity.host ?? "")",
                ])
            }
            deliver([event] + early.map(ListenEvent.notification))
            while true {
                let quietUntil = options.livenessCheckInterval.map { clock.now.advanced(by: $0) }
                let received = try await session.receiveNotifications(until: quietUntil)
                guard !received.isEmpty else {
                    // Silent for the interval: one round trip proves the session alive, or throws its loss.
                    _ = try await session.execute(
                        "", parameters: [], resultFormat: .text, deadline: clock.now.advanced(by: setupTimeout)
                    )
                    continue
                }
                deliver(received.compactMap { $0.channel == probeChannel ? nil : .notification($0) })
            }
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Runs `LISTEN` for every channel and the probe's, in one round trip and one transaction, reads where the
    /// session is, and turns `idle_session_timeout` off for it.
    private func runListen(on session: any NotificationReceiving) async throws -> ListenerStateMachine.SessionIdentity {
        let statements = (channels + [probeChannel]).map { BatchStatement(ListenStatement.listen($0)) }
            + [BatchStatement(ListenStatement.whereabouts)]
        let results = try await session.executeBatch(
            statements, resultFormat: .text, deadline: clock.now.advanced(by: setupTimeout)
        )
        return ListenerStateMachine.SessionIdentity(
            host: session.host, port: session.port, serverStartedAt: results.last?.string(row: 0, column: 0)
        )
    }

    /// Sends the session a notification of its own and waits for it; returns the notifications of the channels
    /// that arrived meanwhile, in order.
    ///
    /// Directly connected, it comes back within a round trip, from the session's own server process. Through a
    /// pooler it comes from another process than the one the pooler named to the client (PgBouncer and the like make
    /// one up, in every pool mode): positive evidence, which stops the listener unless
    /// ``ListenOptions/refusesPoolers`` is off. When it does not come back within the probe timeout, a round trip
    /// tells a slow network from a pooler in transaction mode: a session that does not answer is lost (thrown, and
    /// retried); one that answers while its notification stays away is behind such a pooler, unless the listener
    /// has listened on this target before, in which case it is retried as a loss.
    private func probe(
        _ session: any NotificationReceiving,
        token: String,
        hasListened: Bool
    ) async throws -> [PostgresNotification] {
        _ = try await session.execute(
            ListenStatement.probe, parameters: [.text(probeChannel), .text(token)], resultFormat: .text,
            deadline: clock.now.advanced(by: setupTimeout)
        )
        var deadline = clock.now.advanced(by: options.probeTimeout)
        var early: [PostgresNotification] = []
        var hasAnswered = false
        var isBack = false
        while !isBack {
            let received = try await session.receiveNotifications(until: deadline)
            if received.isEmpty {
                guard !hasAnswered else { break }
                _ = try await session.execute(
                    "", parameters: [], resultFormat: .text, deadline: clock.now.advanced(by: setupTimeout)
                )
                hasAnswered = true
                deadline = clock.now  // only what arrived with the answer
                continue
            }
            for notification in received {
                guard notification.channel == probeChannel else {
                    early.append(notification)
                    continue
                }
                guard notification.payload == token else { continue }  // an earlier session's probe
                if notification.backendPID != session.notificationProcessID, options.refusesPoolers {
                    throw poolerError(
                        session, "the notification it sent itself came from another server process",
                        advice: "Poolers in session mode, where LISTEN works, are refused too, as they cannot be "
                            + "told apart; behind one, set ListenOptions.refusesPoolers to false"
                    )
                }
                isBack = true
            }
        }
        if isBack { return early }
        let observation = "the notification it sent itself did not come back within \(options.probeTimeout)"
        guard !hasListened else {
            throw TransportError(
                code: .deadlineExceeded, message: observation + ", though the session answered",
                host: session.host, port: session.port, phase: .sent, isConnectionUsable: false
            )
        }
        throw poolerError(session, observation + " while the session answered", advice: nil)
    }

    private func poolerError(
        _ session: any NotificationReceiving,
        _ observation: String,
        advice: String?
    ) -> ListenerError {
        ListenerError(
            code: .behindPooler,
            message: "LISTEN cannot work here: \(observation), as when a pooler (PgBouncer, Azure's port 6432) "
                + "stands between; connect listeners to the server directly (Configuration.listenConnection)"
                + (advice.map { ". " + $0 } ?? ""),
            host: session.host, port: session.port
        )
    }

    // MARK: - The mailbox

    /// Buffers events for the consumer, handing the first straight to it when it waits.
    private func deliver(_ events: [ListenEvent]) {
        guard !events.isEmpty else { return }
        let now = clock.now
        let handover = mailbox.withLock { mailbox -> (Consumer, ListenEvent)? in
            guard !mailbox.isFinished else { return nil }
            for event in events { mailbox.buffer.append(event, now: now) }
            guard let consumer = mailbox.consumer, let event = mailbox.buffer.take(now: now) else { return nil }
            mailbox.consumer = nil
            return (consumer, event)
        }
        if let (consumer, event) = handover { consumer.resume(returning: .success(event)) }
    }

    /// Ends the events: the consumer gets what is buffered, then `failure` or the end.
    private func finish(throwing failure: ListenerError?) {
        let consumer = mailbox.withLock { mailbox -> Consumer? in
            guard !mailbox.isFinished else { return nil }
            mailbox.isFinished = true
            mailbox.failure = failure
            guard let consumer = mailbox.consumer.take() else { return nil }
            mailbox.failure = nil
            return consumer
        }
        consumer?.resume(returning: failure.map { .failure($0) } ?? .success(nil))
    }
}
