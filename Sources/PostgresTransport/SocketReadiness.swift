#if canImport(Glibc)
import Glibc
internal import CEpoll
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Suspends tasks until a socket is readable or writable, so that no Swift cooperative thread ever blocks on the
/// network.
///
/// One background thread per process waits in `epoll_wait` for every registered socket. A waiting task registers
/// its continuation, arms its descriptor with `EPOLLONESHOT` and suspends; the thread resumes it when the socket is
/// ready or its deadline passes. Readiness can be spurious (a stale arming firing for a later waiter), so callers
/// always re-check with libpq and wait again.
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

    private struct Waiter {
        var descriptor: Int32
        /// The epoll events the waiter is interested in.
        var events: UInt32
        var deadline: ContinuousClock.Instant?
        var continuation: UnsafeContinuation<Outcome, Never>
        /// The registration that was already waiting on the same descriptor, if any (usually none).
        var earlier: UInt64?
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        /// The registration that last started waiting on each descriptor; the others chain from it through
        /// ``Waiter/earlier``.
        var latestWaiter: [Int32: UInt64] = [:]
        /// The deadline the loop sleeps until, if any. A new earlier deadline must wake the loop.
        var sleepingUntil: ContinuousClock.Instant?
        var sleepsForever = true
        /// Deadlines set for registrations that were not waiting at the time; their next wait takes it.
        var pendingDeadlines: [UInt64: ContinuousClock.Instant] = [:]

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

    /// The process-wide instance; its thread lives as long as the process.
    package static let shared = SocketReadiness()

    #if canImport(Glibc)
    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    #endif
    private let state = Mutex(State())
    private let lastRegistrationID = Atomic<UInt64>(0)

    private init() {
        #if canImport(Glibc)
        epollDescriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epollDescriptor >= 0 && wakeDescriptor >= 0, "epoll or eventfd unavailable: errno \(errno)")
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeDescriptor))
        precondition(epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, wakeDescriptor, &event) == 0)
        let thread = Thread { [self] in runLoop() }
        thread.name = "ResilientPostgres.SocketReadiness"
        thread.start()
        #endif
    }

    /// A new registration for waits on `descriptor`; takes no lock and allocates nothing.
    package func register(_ descriptor: Int32) -> Registration {
        Registration(id: lastRegistrationID.wrappingAdd(1, ordering: .relaxed).newValue, descriptor: descriptor)
    }

    /// Suspends until the registration's descriptor is ready for `interest`, or until `deadline` passes.
    package func wait(
        for interest: Interest,
        on registration: Registration,
        deadline: ContinuousClock.Instant?
    ) async -> Outcome {
        #if canImport(Glibc)
        await withUnsafeContinuation { continuation in
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
                    earlier: earlier
                )
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
                guard let deadline else { return false }
                if state.sleepsForever { return true }
                return state.sleepingUntil.map { deadline < $0 } ?? true
            }
            for waiter in notPollable { waiter.resume(returning: .ready) }
            if mustWake { wake() }
        }
        #else
        await Self.waitOnOwnThread(for: interest, on: registration.descriptor, deadline: deadline)
        #endif
    }

    /// Moves the deadline of the registration's wait earlier (to end a wait after a cancel request).
    ///
    /// When the registration is not waiting, its next wait takes the deadline; an owner that may not wait again
    /// must call ``discardPendingDeadline(of:)``.
    package func shortenDeadline(of registration: Registration, to deadline: ContinuousClock.Instant) {
        #if canImport(Glibc)
        let changed = state.withLock { state -> Bool in
            guard var waiter = state.waiters[registration.id] else {
                let pending = state.pendingDeadlines[registration.id]
                state.pendingDeadlines[registration.id] = pending.map { min($0, deadline) } ?? deadline
                return false
            }
            if let current = waiter.deadline, current <= deadline { return false }
            waiter.deadline = deadline
            state.waiters[registration.id] = waiter
            return true
        }
        if changed { wake() }
        #endif
    }

    /// Drops a deadline set by ``shortenDeadline(of:to:)`` that no wait took.
    func discardPendingDeadline(of registration: Registration) {
        #if canImport(Glibc)
        state.withLock { state in
            guard !state.pendingDeadlines.isEmpty else { return }
            state.pendingDeadlines[registration.id] = nil
        }
        #endif
    }

    #if canImport(Glibc)
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

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(wakeDescriptor, $0.baseAddress, 8) }
    }

    private func runLoop() {
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        var ready: [UnsafeContinuation<Outcome, Never>] = []
        var expired: [UnsafeContinuation<Outcome, Never>] = []
        var expiredIDs: [UInt64] = []
        ready.reserveCapacity(capacity)
        let wakesEveryone = EPOLLERR.rawValue | EPOLLHUP.rawValue
        while true {
            let timeout = state.withLock { state -> Int32 in
                let earliest = state.waiters.values.lazy.compactMap(\.deadline).min()
                state.sleepingUntil = earliest
                state.sleepsForever = earliest == nil
                guard let earliest else { return -1 }
                return Self.milliseconds(until: earliest)
            }
            let count = epoll_wait(epollDescriptor, events, Int32(capacity), timeout)
            let now = ContinuousClock.now
            var woken = false
            state.withLock { state in
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
                    while let current = next, let waiter = state.waiters[current] {
                        next = waiter.earlier
                        if waiter.events & fired != 0 || fired & wakesEveryone != 0 {
                            state.waiters[current] = nil
                            ready.append(waiter.continuation)
                        } else {
                            state.waiters[current]?.earlier = state.latestWaiter.updateValue(current, forKey: descriptor)
                            stillWaiting |= waiter.events
                        }
                    }
                    if stillWaiting != 0, !arm(descriptor, events: stillWaiting) {
                        while let current = state.latestWaiter[descriptor], let waiter = state.unlink(current) {
                            ready.append(waiter.continuation)
                        }
                    }
                }
                for (id, waiter) in state.waiters {
                    if let deadline = waiter.deadline, deadline <= now { expiredIDs.append(id) }
                }
                for id in expiredIDs {
                    if let waiter = state.unlink(id) { expired.append(waiter.continuation) }
                }
            }
            // Drain the wake-up counter only when it fired: a read of an empty eventfd is a wasted system call.
            if woken {
                var drained: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &drained) { Glibc.read(wakeDescriptor, $0.baseAddress, 8) }
            }
            for continuation in ready { continuation.resume(returning: .ready) }
            for continuation in expired { continuation.resume(returning: .timedOut) }
            ready.removeAll(keepingCapacity: true)
            expired.removeAll(keepingCapacity: true)
            expiredIDs.removeAll(keepingCapacity: true)
        }
    }
    #endif

    /// Milliseconds from now until `deadline`, rounded up so that a wait never ends before it; 0 when past.
    static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    /// Blocks the calling thread in `poll` until `descriptor` is ready or `deadline` passes.
    static func pollDescriptor(
        _ descriptor: Int32,
        for interest: Interest,
        until deadline: ContinuousClock.Instant?
    ) -> Outcome {
        let events: Int16 =
            switch interest {
            case .readable: Int16(POLLIN)
            case .writable: Int16(POLLOUT)
            case .readableOrWritable: Int16(POLLIN | POLLOUT)
            }
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        while true {
            let result = poll(&entry, 1, deadline.map { milliseconds(until: $0) } ?? -1)
            if result > 0 { return .ready }
            if result == 0 { return .timedOut }
            if errno != EINTR { return .ready }  // let libpq report what is wrong with the descriptor
        }
    }

    #if !canImport(Glibc)
    /// Portable fallback: waits in `poll` on a thread of its own.
    private static func waitOnOwnThread(
        for interest: Interest,
        on descriptor: Int32,
        deadline: ContinuousClock.Instant?
    ) async -> Outcome {
        await withUnsafeContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: pollDescriptor(descriptor, for: interest, until: deadline))
            }
            thread.start()
        }
    }
    #endif
}
