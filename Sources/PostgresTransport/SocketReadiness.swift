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
final class SocketReadiness: Sendable {
    enum Interest: Sendable {
        case readable
        case writable
        /// Either, as libpq asks while flushing: "wait for the socket to be read-ready or write-ready".
        case readableOrWritable
    }

    enum Outcome: Sendable {
        case ready
        case timedOut
    }

    private struct Waiter {
        var deadline: ContinuousClock.Instant?
        var continuation: UnsafeContinuation<Outcome, Never>
    }

    private struct State {
        var waiters: [Int32: Waiter] = [:]
        /// The deadline the loop sleeps until, if any. A new earlier deadline must wake the loop.
        var sleepingUntil: ContinuousClock.Instant?
        var sleepsForever = true
        /// Deadlines set for descriptors that had no waiter at the time; the next wait on them takes it.
        var pendingDeadlines: [Int32: ContinuousClock.Instant] = [:]
    }

    /// The process-wide instance; its thread lives as long as the process.
    static let shared = SocketReadiness()

    #if canImport(Glibc)
    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    #endif
    private let state = Mutex(State())

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

    /// Suspends until `descriptor` is ready for `interest`, or until `deadline` passes.
    func wait(
        for interest: Interest,
        on descriptor: Int32,
        deadline: ContinuousClock.Instant?
    ) async -> Outcome {
        #if canImport(Glibc)
        await withUnsafeContinuation { continuation in
            let mustWake = state.withLock { state -> Bool in
                var deadline = deadline
                if let pending = state.pendingDeadlines.removeValue(forKey: descriptor) {
                    deadline = min(deadline ?? pending, pending)
                }
                state.waiters[descriptor] = Waiter(deadline: deadline, continuation: continuation)
                guard let deadline else { return false }
                if state.sleepsForever { return true }
                return state.sleepingUntil.map { deadline < $0 } ?? true
            }
            if !arm(descriptor, for: interest) {
                // Not a pollable descriptor (closed, say): let the caller find out from libpq.
                let waiter = state.withLock { $0.waiters.removeValue(forKey: descriptor) }
                waiter?.continuation.resume(returning: .ready)
                return
            }
            if mustWake { wake() }
        }
        #else
        await Self.waitOnOwnThread(for: interest, on: descriptor, deadline: deadline)
        #endif
    }

    /// Moves the deadline of the task waiting on `descriptor` earlier (to end a wait after a cancel request).
    ///
    /// When no task is waiting yet, the next wait on `descriptor` takes the deadline. A deadline left over for a
    /// later statement only makes one of its waits end early, which callers treat as a spurious wake.
    func shortenDeadline(of descriptor: Int32, to deadline: ContinuousClock.Instant) {
        #if canImport(Glibc)
        let changed = state.withLock { state -> Bool in
            guard var waiter = state.waiters[descriptor] else {
                state.pendingDeadlines[descriptor] = deadline
                return false
            }
            if let current = waiter.deadline, current <= deadline { return false }
            waiter.deadline = deadline
            state.waiters[descriptor] = waiter
            return true
        }
        if changed { wake() }
        #endif
    }

    #if canImport(Glibc)
    private func arm(_ descriptor: Int32, for interest: Interest) -> Bool {
        let events: UInt32 =
            switch interest {
            case .readable: EPOLLIN.rawValue
            case .writable: EPOLLOUT.rawValue
            case .readableOrWritable: EPOLLIN.rawValue | EPOLLOUT.rawValue
            }
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
        ready.reserveCapacity(capacity)
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
                    if let waiter = state.waiters.removeValue(forKey: descriptor) {
                        ready.append(waiter.continuation)
                    }
                }
                for (descriptor, waiter) in state.waiters {
                    if let deadline = waiter.deadline, deadline <= now {
                        state.waiters[descriptor] = nil
                        expired.append(waiter.continuation)
                    }
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
