import Glibc
internal import CEpoll
import PostgresPolicy
import Synchronization

/// Suspends tasks until a socket is readable or writable, for one ``IOThread``, so that no thread ever blocks on
/// the network but the I/O thread waiting for all of its sockets at once.
///
/// A waiting task registers its continuation, arms its descriptor with `EPOLLONESHOT` and suspends; the I/O thread
/// resumes it when the socket is ready or its deadline passes, onto the executor it waited on: for a connection on
/// that thread, the thread itself, with no hop. Readiness can be spurious (a stale arming firing for a later
/// waiter), so callers always re-check with libpq and wait again.
///
/// Waits are kept by ``Registration``, never by descriptor alone: epoll arms a descriptor once, so the waits on one
/// descriptor (a closed socket's waiter and the new socket that reused its number, say) share that arming, with
/// the union of their interests, and an event wakes each of them whose interest it matches.
package final class SocketReadiness: Sendable {
    package enum Interest: Sendable {
        case readable
        case writable
        /// Either, as libpq asks while flushing: "wait for the socket to be read-ready or write-ready".
        case readableOrWritable
    }

    package enum Outcome: Sendable {
        case ready
        case timedOut
    }

    /// The waits of one owner on one socket (a statement's), told apart from every other registration's even when
    /// they share a descriptor number; ``shortenDeadline(of:to:)`` targets it. One wait at a time per registration.
    package struct Registration: Hashable, Sendable {
        package let id: UInt64
        package let descriptor: Int32
    }

    fileprivate struct Waiter {
        var descriptor: Int32
        /// The epoll events the waiter is interested in.
        var events: UInt32
        var deadline: OffsetInstant?
        var continuation: UnsafeContinuation<Outcome, Never>
        /// Whether the task resumes isolated to an actor (see ``Resumption/resumesIsolated``).
        var resumesIsolated: Bool
        /// The registration that was already waiting on the same descriptor, if any (usually none).
        var earlier: UInt64?
    }

    /// Instants are kept as `OffsetInstant`s, values of known size: a `ContinuousClock.Instant`, whose layout the
    /// standard library keeps to itself, makes every struct that holds one, and every optional of one, copied and
    /// destroyed through its type's metadata, a dozen lookups a wait. They are made at the edges: in
    /// ``park(_:for:on:deadline:resumesIsolated:)``, ``shortenDeadline(of:to:)`` and the loop's reads of the clock.
    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        /// The registration that last started waiting on each descriptor; the others chain from it through
        /// ``Waiter/earlier``.
        var latestWaiter = LatestWaiters()
        /// The instant the loop sleeps until, if any: the earliest deadline, or ``cappedWakeUp`` before it. A new
        /// earlier deadline must wake the loop.
        var sleepingUntil: OffsetInstant?
        /// Whether the loop is (about to be) in `epoll_wait`; while it runs jobs, it sees every deadline before it
        /// sleeps again, and no wait needs to wake it.
        var isSleeping = false
        /// No later than the earliest deadline of any waiter, nil when none has one: a waiter that left since can
        /// leave it earlier than it needs to be, which costs a look at every waiter when it passes, never a missed
        /// deadline. Spares the loop that look at every turn.
        var earliestDeadline: OffsetInstant?
        /// When the loop sleeps a second short of the earliest deadline: the instant it wakes to look again. It then
        /// makes ``earliestDeadline`` exact, so that a stale one (its waiter gone) does not wake an idle loop every
        /// second until it passes.
        var cappedWakeUp: OffsetInstant?
        /// Deadlines set for registrations that were not waiting at the time; their next wait takes it.
        var pendingDeadlines: [UInt64: OffsetInstant] = [:]

        /// The union of the events the waiters chained from `id` are interested in.
        func events(from id: UInt64?) -> UInt32 {
            var events: UInt32 = 0
            var next = id
            while let current = next, let waiter = waiters[current] {
                events |= waiter.events
                next = waiter.earlier
            }
            return events
        }

        /// Keeps ``earliestDeadline`` no later than `deadline`.
        mutating func note(_ deadline: OffsetInstant?) {
            guard let deadline else { return }
            if let earliest = earliestDeadline, earliest <= deadline { return }
            earliestDeadline = deadline
        }

        /// Removes the waiters whose deadline has passed, and makes ``earliestDeadline`` exact again.
        mutating func removeExpired(at now: OffsetInstant, into ended: inout [Resumption]) {
            var expired: [UInt64] = []
            var earliest: OffsetInstant?
            for (id, waiter) in waiters {
                guard let deadline = waiter.deadline else { continue }
                if deadline <= now {
                    expired.append(id)
                } else if earliest.map({ deadline < $0 }) ?? true {
                    earliest = deadline
                }
            }
            earliestDeadline = earliest
            for id in expired {
                if let waiter = unlink(id) { ended.append(Resumption(waiter, .timedOut)) }
            }
        }

        /// Whether a wait with `deadline` must wake the loop, which sleeps past it.
        func mustWake(for deadline: OffsetInstant?) -> Bool {
            guard isSleeping, let deadline else { return false }
            return sleepingUntil.map { deadline < $0 } ?? true
        }

        /// Removes one waiter, keeping the chain of its descriptor intact.
        mutating func unlink(_ id: UInt64) -> Waiter? {
            guard let waiter = waiters.removeValue(forKey: id) else { return nil }
            if latestWaiter[waiter.descriptor] == id {
                latestWaiter[waiter.descriptor] = waiter.earlier
                return waiter
            }
            var next = latestWaiter[waiter.descriptor]
            while let current = next {
                if waiters[current]?.earlier == id {
                    waiters[current]?.earlier = waiter.earlier
                    break
                }
                next = waiters[current]?.earlier
            }
            return waiter
        }
    }

    /// The registration that last started waiting on each descriptor, kept in an array indexed by the descriptor.
    ///
    /// Descriptors are small integers, so a lookup costs an index instead of a hash: a wait that suspends makes two
    /// of them (its start, and the event that ends it), on the I/O thread's path of every statement. The array
    /// grows to the largest descriptor waited on, up to ``tableLimit`` (8 bytes a descriptor, never given back);
    /// a descriptor past it, or a negative one (none at all), is kept in a dictionary instead.
    struct LatestWaiters {
        /// Descriptors below it are kept in the array: 512 KiB at most per I/O thread.
        static let tableLimit = 65_536
        /// Registration ids by descriptor; 0 for none (ids start at 1).
        private var table: [UInt64] = []
        private var others: [Int32: UInt64] = [:]

        subscript(descriptor: Int32) -> UInt64? {
            get {
                guard descriptor >= 0, Int(descriptor) < Self.tableLimit else { return others[descriptor] }
                let index = Int(descriptor)
                guard index < table.count, table[index] != 0 else { return nil }
                return table[index]
            }
            set {
                guard descriptor >= 0, Int(descriptor) < Self.tableLimit else {
                    others[descriptor] = newValue
                    return
                }
                let index = Int(descriptor)
                if index >= table.count {
                    guard newValue != nil else { return }
                    table.append(contentsOf: repeatElement(0, count: index + 1 - table.count))
                }
                table[index] = newValue ?? 0
            }
        }

        /// Sets the descriptor's latest registration and returns the one it replaces, as `Dictionary` does.
        mutating func updateValue(_ id: UInt64, forKey descriptor: Int32) -> UInt64? {
            // 0 means none in the table: a registration with id 0 would never be found, and its wait never end.
            precondition(id != 0 || descriptor < 0, "a wait on a descriptor needs an id from register(_:)")
            let old = self[descriptor]
            self[descriptor] = id
            return old
        }

        /// Removes the descriptor's latest registration and returns it, as `Dictionary` does.
        mutating func removeValue(forKey descriptor: Int32) -> UInt64? {
            let old = self[descriptor]
            if old != nil { self[descriptor] = nil }
            return old
        }
    }

    /// A wait that is over, for the I/O thread to resume. Its task prefers the thread, unless it waited away from
    /// it (see ``wait(for:on:deadline:prefersThread:isolation:)``).
    struct Resumption {
        var continuation: UnsafeContinuation<Outcome, Never>
        var outcome: Outcome
        /// Whether the task waited isolated to an actor (a connection), to which it switches back at once, or in
        /// nonisolated code, which goes on from the wait (a statement waiting from its caller's job,
        /// `LibPQConnection.completeWaiting`): the loop tells the thread, which runs the task's resumption as it
        /// will need (see `IOThread.enqueuePreferring`).
        var resumesIsolated: Bool
    }

    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    private let state = Mutex(State())
    /// The I/O thread as a task executor, which a waiting task prefers while it waits
    /// (see ``wait(for:on:deadline:prefersThread:isolation:)``).
    private let preferredExecutor: IOThread.TaskExecutorRole
    /// Its identity, to recognise the tasks that prefer it already.
    private let taskExecutor: UnownedTaskExecutor
    /// The loop's buffer for `epoll_wait`; touched only by the I/O thread.
    private nonisolated(unsafe) let events: UnsafeMutablePointer<epoll_event>
    private static let eventCapacity = 64
    /// Registrations are unique in the process, whichever thread they wait on.
    private static let lastRegistrationID = Atomic<UInt64>(0)

    init(taskExecutor: IOThread.TaskExecutorRole) {
        self.preferredExecutor = taskExecutor
        self.taskExecutor = taskExecutor.asUnownedTaskExecutor()
        epollDescriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epollDescriptor >= 0 && wakeDescriptor >= 0, "epoll or eventfd unavailable: errno \(errno)")
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeDescriptor))
        precondition(epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, wakeDescriptor, &event) == 0)
        // Lives as long as its thread, which is as long as the process.
        events = .allocate(capacity: Self.eventCapacity)
    }

    /// A new registration for waits on `descriptor`; takes no lock and allocates nothing.
    package func register(_ descriptor: Int32) -> Registration {
        Registration(id: Self.lastRegistrationID.wrappingAdd(1, ordering: .relaxed).newValue, descriptor: descriptor)
    }

    /// Suspends until the registration's descriptor is ready for `interest`, or until `deadline` passes.
    ///
    /// The task resumes on the executor it waited on (`isolation`): a connection on the I/O thread resumes there
    /// without changing threads.
    ///
    /// A continuation resumes its task on Swift's generic executor, which then hops to `isolation`: for a task with
    /// no preference of its own, that is a round trip through the global executor, two switches of threads. While
    /// it waits, the task therefore prefers this I/O thread, where the generic executor then runs it: the thread
    /// resumes it inline. The preference is a record in the task's status, pushed and popped under its lock, so it
    /// is taken only for the wait, and not at all by a task that prefers the thread already (an attempt lent a
    /// session, `withSessionThread`, a statement inside ``preferringThread(isolation:_:)``). Always inlined: one
    /// async layer less for every wait.
    ///
    /// With `prefersThread` false, the wait takes no preference: a task that waits in nonisolated code away from
    /// the thread, and goes on there (`LibPQConnection.completeWaiting`), resumes on its own executor.
    @inline(__always)
    package func wait(
        for interest: Interest,
        on registration: Registration,
        deadline: ContinuousClock.Instant?,
        prefersThread: Bool = true,
        isolation: isolated (any Actor)? = #isolation
    ) async -> Outcome {
        await wait(
            for: interest, on: registration, until: deadline.map(OffsetInstant.init), prefersThread: prefersThread,
            isolation: isolation
        )
    }

    /// ``wait(for:on:deadline:prefersThread:isolation:)``, with the deadline as an `OffsetInstant` of the continuous
    /// clock: a value of known size, which the statements' waits pass from the operation's start to here without a
    /// task allocation for it in any of their async frames.
    @inline(__always)
    package func wait(
        for interest: Interest,
        on registration: Registration,
        until deadline: OffsetInstant?,
        prefersThread: Bool = true,
        isolation: isolated (any Actor)? = #isolation
    ) async -> Outcome {
        if !prefersThread || taskPrefersThread() {
            return await suspend(for: interest, on: registration, deadline: deadline, isolation: isolation)
        }
        // `isolation` passed on explicitly, which also makes the closure isolated to it: without, the closure would
        // be nonisolated, and the task would leave the connection's actor for a job of its own before it parks.
        // The thread is told as the preference is taken and dropped (see `IOThread.notePreference`).
        preferredExecutor.notePreference(true)
        return await withTaskExecutorPreference(preferredExecutor, isolation: isolation) {
            let outcome = await suspend(for: interest, on: registration, deadline: deadline, isolation: isolation)
            preferredExecutor.notePreference(false)
            return outcome
        }
    }

    /// Runs `body`, whose waits then resume on this I/O thread inline, with the task preferring the thread, unless
    /// it does already.
    ///
    /// For a statement that may wait many times (a large result, read as it arrives): one preference for all of
    /// its waits, a record pushed and popped once, where each ``wait(for:on:deadline:prefersThread:isolation:)`` would take its
    /// own. Code in `body` runs on the thread between its waits too, as a connection's own code does anyway.
    ///
    /// Generic over the error `body` throws, as `withTaskExecutorPreference` is, so that `body` is handed on as it
    /// is: a closure that throws untyped errors would be wrapped in a thunk converting its errors, one more async
    /// frame for every statement.
    @inline(__always)
    package func preferringThread<Result, Failure: Error>(
        isolation: isolated (any Actor)?,
        _ body: () async throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        if taskPrefersThread() {
            return try await body()
        }
        // The thread is told as the preference is taken and dropped (`IOThread.notePreference`), so that the
        // task's switches into the closure and out of it are enqueued to run as it then needs, instead of each of its
        // switches in between and after going through the queue again. The closure names `isolation` so as to run in
        // it, as `body` does: one more async layer, whose switches stay on the same executor.
        preferredExecutor.notePreference(true)
        return try await withTaskExecutorPreference(preferredExecutor, isolation: isolation) {
            () async throws(Failure) -> Result in
            _ = isolation
            defer { preferredExecutor.notePreference(false) }
            return try await body()
        }
    }

    /// Whether the current task prefers this I/O thread already, so that its waits resume here without a preference
    /// of their own (see ``preferringThread(isolation:_:)``). When it does, the thread is told (see
    /// `IOThread.notePreference`): a task that prefers the thread but entered a connection from another thread
    /// runs without the thread as its task executor, and each of its switches would go through the queue again.
    ///
    /// Asked of the thread first (`IOThread.runsTaskThatPrefersIt`), which knows it in the usual case, a task that
    /// runs here preferring it: asking the runtime for the task's preferred executor takes the lock of the task's
    /// status records, about 450 instructions a wait. The thread's rare wrong guesses cost a wait a hand-over, never
    /// its resumption (see there).
    package func taskPrefersThread() -> Bool {
        if preferredExecutor.runsTaskThatPrefersIt { return true }
        let preferred = withUnsafeCurrentTask { $0?.unownedTaskExecutor }
        guard let preferred else { return IOThread.isGlobalExecutor }
        guard preferred == taskExecutor else { return false }
        preferredExecutor.notePreference(true)
        return true
    }

    /// Suspends a task until the wait is over (see ``wait(for:on:deadline:prefersThread:isolation:)``).
    ///
    /// `isolation` has no default: a caller inside a closure would get nil from `#isolation`, not its own.
    @inline(__always)
    private func suspend(
        for interest: Interest,
        on registration: Registration,
        deadline: OffsetInstant?,
        isolation: isolated (any Actor)?
    ) async -> Outcome {
        await withUnsafeContinuation(isolation: isolation) { continuation in
            park(continuation, for: interest, on: registration, deadline: deadline, resumesIsolated: isolation != nil)
        }
    }

    /// Registers a wait's continuation (see ``wait(for:on:deadline:prefersThread:isolation:)``).
    ///
    /// Synchronous and never inlined into the async `wait`, which every statement that waits inlines: its work
    /// under the lock is one copy for all of them.
    @inline(never)
    private func park(
        _ continuation: UnsafeContinuation<Outcome, Never>,
        for interest: Interest,
        on registration: Registration,
        deadline: OffsetInstant?,
        resumesIsolated: Bool
    ) {
        let descriptor = registration.descriptor
        var notPollable: [UnsafeContinuation<Outcome, Never>] = []
        let mustWake = state.withLock { state -> Bool in
            var deadline = deadline
            if !state.pendingDeadlines.isEmpty,
                let pending = state.pendingDeadlines.removeValue(forKey: registration.id)
            {
                deadline = min(deadline ?? pending, pending)
            }
            let events = Self.events(for: interest)
            let earlier = state.latestWaiter.updateValue(registration.id, forKey: descriptor)
            state.waiters[registration.id] = Waiter(
                descriptor: descriptor, events: events, deadline: deadline, continuation: continuation,
                resumesIsolated: resumesIsolated, earlier: earlier
            )
            state.note(deadline)
            // Armed under the lock, so that two waits on one descriptor cannot arm it each with only its own
            // interest. The chain is almost always this one waiter.
            guard arm(descriptor, events: events | state.events(from: earlier)) else {
                // Not a pollable descriptor (closed, say): let every waiter on it find out from libpq.
                var next: UInt64? = registration.id
                while let current = next, let waiter = state.unlink(current) {
                    notPollable.append(waiter.continuation)
                    next = state.latestWaiter[descriptor]
                }
                return false
            }
            return state.mustWake(for: deadline)
        }
        for waiter in notPollable { waiter.resume(returning: .ready) }
        if mustWake { wake() }
    }

    /// Moves the deadline of the registration's wait earlier (to end a wait after a cancel request); safe to call
    /// from any thread.
    ///
    /// When the registration is not waiting, its next wait takes the deadline; an owner that may not wait again
    /// must call ``discardPendingDeadline(of:)``.
    package func shortenDeadline(of registration: Registration, to deadline: ContinuousClock.Instant) {
        let deadline = OffsetInstant(deadline)
        let mustWake = state.withLock { state -> Bool in
            guard var waiter = state.waiters[registration.id] else {
                let pending = state.pendingDeadlines[registration.id]
                state.pendingDeadlines[registration.id] = pending.map { min($0, deadline) } ?? deadline
                return false
            }
            if let current = waiter.deadline, current <= deadline { return false }
            waiter.deadline = deadline
            state.waiters[registration.id] = waiter
            state.note(deadline)
            return state.mustWake(for: deadline)
        }
        if mustWake { wake() }
    }

    /// Drops a deadline set by ``shortenDeadline(of:to:)`` that no wait took.
    func discardPendingDeadline(of registration: Registration) {
        state.withLock { state in
            guard !state.pendingDeadlines.isEmpty else { return }
            state.pendingDeadlines[registration.id] = nil
        }
    }

    private static func events(for interest: Interest) -> UInt32 {
        switch interest {
        case .readable: EPOLLIN.rawValue
        case .writable: EPOLLOUT.rawValue
        case .readableOrWritable: EPOLLIN.rawValue | EPOLLOUT.rawValue
        }
    }

    private func arm(_ descriptor: Int32, events: UInt32) -> Bool {
        var event = epoll_event(events: events | EPOLLONESHOT.rawValue, data: epoll_data_t(fd: descriptor))
        if epoll_ctl(epollDescriptor, EPOLL_CTL_MOD, descriptor, &event) == 0 { return true }
        // A descriptor not yet registered, or a new socket that reuses a closed one's number.
        return epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, descriptor, &event) == 0
    }

    /// Ends the I/O thread's `epoll_wait`.
    func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(wakeDescriptor, $0.baseAddress, 8) }
    }

    // MARK: - On the I/O thread

    /// The timeout for the loop's next `epoll_wait`: milliseconds until the earliest deadline, or -1 for none.
    /// From then until ``poll(timeout:into:)`` returns, a wait with an earlier deadline wakes the loop.
    ///
    /// Reads the clock once, for the timeout and the capped wake-up alike, and not at all without a deadline.
    func timeoutUntilNextDeadline() -> Int32 {
        state.withLock { state -> Int32 in
            let earliest = state.earliestDeadline
            state.sleepingUntil = earliest
            state.cappedWakeUp = nil
            state.isSleeping = true
            guard let earliest else { return -1 }
            let now = OffsetInstant.now
            let timeout = Self.milliseconds(from: now, until: earliest)
            if timeout == Self.longestTimeout {
                // Maybe a second short of the deadline: the loop looks again then, and a wait with a deadline after
                // that need not wake it.
                let wakeUp = now.advanced(byNanoseconds: Int64(Self.longestTimeout) * 1_000_000)
                if wakeUp < earliest {
                    state.sleepingUntil = wakeUp
                    state.cappedWakeUp = wakeUp
                }
            }
            return timeout
        }
    }

    /// Waits up to `timeout` milliseconds (0: not at all, -1: until an event) and appends the waits that are over,
    /// ready or past their deadline, to `ended`.
    ///
    /// Deadlines are looked at when the wait was not a sleep (`timeout` 0: the loop had jobs, or a deadline had
    /// passed) or when the sleep ran out (no event); not after a sleep that an event ended, which the
    /// loop began in ``timeoutUntilNextDeadline()`` no later than the earliest deadline (rounded up to the
    /// millisecond) and so ended before it, or at most that millisecond past it, when the next turn's timeout of
    /// 0 (a deadline passed) or its own sleep running out has this look at them. A deadline is therefore seen at
    /// most one turn of the loop later than with a look every time, never missed, and a wait resumed by its
    /// socket (a statement's answer) costs the loop no read of the clock here.
    func poll(timeout: Int32, into ended: inout [Resumption]) {
        let count = epoll_wait(epollDescriptor, events, Int32(Self.eventCapacity), timeout)
        let looksAtDeadlines = timeout == 0 || count <= 0
        var woken = false
        let wakesEveryone = EPOLLERR.rawValue | EPOLLHUP.rawValue
        state.withLock { state in
            state.isSleeping = false
            for index in 0..<max(0, Int(count)) {
                let descriptor = events[index].data.fd
                if descriptor == wakeDescriptor {
                    woken = true
                    continue
                }
                // Wake every waiter on the descriptor whose interest the event matches; re-arm for the others.
                let fired = events[index].events
                var next = state.latestWaiter.removeValue(forKey: descriptor)
                var stillWaiting: UInt32 = 0
                // Each waiter taken out with one lookup of its key, and put back in the rare case it waits on.
                while let current = next, var waiter = state.waiters.removeValue(forKey: current) {
                    next = waiter.earlier
                    if waiter.events & fired != 0 || fired & wakesEveryone != 0 {
                        ended.append(Resumption(waiter, .ready))
                    } else {
                        waiter.earlier = state.latestWaiter.updateValue(current, forKey: descriptor)
                        stillWaiting |= waiter.events
                        state.waiters[current] = waiter
                    }
                }
                if stillWaiting != 0, !arm(descriptor, events: stillWaiting) {
                    while let current = state.latestWaiter[descriptor], let waiter = state.unlink(current) {
                        ended.append(Resumption(waiter, .ready))
                    }
                }
            }
            if looksAtDeadlines, let earliest = state.earliestDeadline,
                case let now = OffsetInstant.now, earliest <= now || state.cappedWakeUp.map({ $0 <= now }) == true
            {
                state.cappedWakeUp = nil
                state.removeExpired(at: now, into: &ended)
            }
        }
        // Drain the wake-up counter only when it fired: a read of an empty eventfd is a wasted system call.
        if woken {
            var drained: UInt64 = 0
            _ = withUnsafeMutableBytes(of: &drained) { Glibc.read(wakeDescriptor, $0.baseAddress, 8) }
        }
    }

    /// The longest the loop sleeps for a deadline, in milliseconds (see ``milliseconds(until:)``).
    package static let longestTimeout: Int32 = 1000

    /// Milliseconds from now until `deadline`, rounded up so that a wait never ends before it; 0 when past.
    ///
    /// A deadline a second or more away gives a second: the loop then wakes once before it and looks again, which
    /// is never late.
    package static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        milliseconds(from: .now, until: OffsetInstant(deadline))
    }

    /// Milliseconds from `now` until `deadline`, as ``milliseconds(until:)``.
    static func milliseconds(from now: OffsetInstant, until deadline: OffsetInstant) -> Int32 {
        let remaining = now.nanoseconds(to: deadline)
        if remaining <= 0 { return 0 }
        if remaining >= Int64(longestTimeout) * 1_000_000 { return longestTimeout }
        return Int32((remaining + 999_999) / 1_000_000)
    }
}

extension SocketReadiness.Resumption {
    fileprivate init(_ waiter: SocketReadiness.Waiter, _ outcome: SocketReadiness.Outcome) {
        self.init(continuation: waiter.continuation, outcome: outcome, resumesIsolated: waiter.resumesIsolated)
    }
}
