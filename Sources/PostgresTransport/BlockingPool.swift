import Foundation

/// A bounded set of threads for the libpq calls that block (on the network, on name resolution, on files), so that
/// neither Swift's cooperative threads nor the I/O threads ever wait in them.
///
/// Threads start when work arrives and no idle thread can take it, up to the pool's bound; past it, work waits in
/// a queue, in order. A thread idle for ``idleTimeout`` ends.
///
/// Two pools, so that one kind of work never starves the other: a burst of connects whose name resolution hangs
/// fills the connect pool, and cancel requests still go out at once.
/// - ``cancels``: `PQcancel`, which connects to the server, sends the request and waits until the server closes
///   that connection. Against a server that is up it takes about one round trip; a hung server can hold a thread
///   for as long as it stays hung (libpq bounds none of it), so a few hung servers cannot take more than 16
///   threads. A request queued behind them that cannot be sent within its statement's grace period ends as an
///   unanswered one does: the statement's connection is closed. A request whose statement is over by the time a
///   thread takes it is not sent.
/// - ``connects``: the calls of a non-blocking connect that libpq may still block in (`PQconnectStartParams` and
///   `PQconnectPoll`: host name resolution, reading TLS certificate and key files), each only as long as the call
///   lasts: the waits for the socket in between are the I/O thread's. 32 threads: well above what a pool opens at
///   once, and a caller waiting in the queue still gets its answer at its deadline.
package final class BlockingPool: @unchecked Sendable {
    // @unchecked Sendable: every stored variable is touched only under `condition`'s lock.

    /// The pool for cancel requests.
    static let cancels = BlockingPool(name: "ResilientPostgres.cancel", maximumThreads: 16)
    /// The pool for the blocking calls of a connect.
    static let connects = BlockingPool(name: "ResilientPostgres.connect", maximumThreads: 32)

    /// How long an idle thread waits for work before it ends.
    static let idleTimeout: TimeInterval = 10

    private let name: String
    private let maximumThreads: Int
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var queueHead = 0
    private var threads = 0
    private var idleThreads = 0

    package init(name: String, maximumThreads: Int) {
        self.name = name
        self.maximumThreads = maximumThreads
    }

    /// Runs `work` on one of the pool's threads, as soon as one is free.
    package func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        queue.append(work)
        if queue.count - queueHead <= idleThreads {
            condition.signal()
        } else if threads < maximumThreads {
            threads += 1
            let thread = Thread { [self] in serve() }
            thread.name = name
            thread.start()
        }
    }

    /// Runs `work` on one of the pool's threads and returns its result.
    package func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withUnsafeContinuation { continuation in
            submit { continuation.resume(returning: work()) }
        }
    }

    private func serve() {
        condition.lock()
        while true {
            if queueHead < queue.count {
                let work = queue[queueHead]
                queueHead += 1
                if queueHead == queue.count {
                    queue.removeAll(keepingCapacity: true)
                    queueHead = 0
                }
                condition.unlock()
                work()
                condition.lock()
                continue
            }
            idleThreads += 1
            let hasWork = condition.wait(until: Date(timeIntervalSinceNow: Self.idleTimeout))
            idleThreads -= 1
            if !hasWork, queueHead == queue.count {
                threads -= 1
                condition.unlock()
                return
            }
        }
    }
}
