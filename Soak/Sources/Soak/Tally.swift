import ResilientPostgres
import Synchronization

/// What the workers did: operations that succeeded and failed, by kind and by error class, and the counter writes
/// whose outcome the client reported as acknowledged or unknown.
final class Tally: Sendable {
    private struct Counts {
        var succeeded: [String: Int] = [:]
        var failedByClass: [String: Int] = [:]
        var failedByOperation: [String: Int] = [:]
        var acknowledgedIncrements = 0
        var unknownIncrements = 0
    }

    private let counts = Mutex(Counts())

    func succeeded(_ operation: String) {
        counts.withLock { $0.succeeded[operation, default: 0] += 1 }
    }

    /// Records a failure under its class (`PostgresError.errorClass.name`, or the type of any other error) and
    /// the reason the client stopped retrying.
    func failed(_ operation: String, _ error: any Error) {
        let name: String
        if let error = error as? PostgresError {
            name = "\(error.errorClass.name) (\(error.reason))"
        } else {
            name = "not a PostgresError: \(type(of: error))"
        }
        counts.withLock {
            $0.failedByClass[name, default: 0] += 1
            $0.failedByOperation[operation, default: 0] += 1
        }
    }

    func incrementAcknowledged() {
        counts.withLock { $0.acknowledgedIncrements += 1 }
    }

    func incrementOutcomeUnknown() {
        counts.withLock { $0.unknownIncrements += 1 }
    }

    var succeededCount: Int { counts.withLock { $0.succeeded.values.reduce(0, +) } }
    var failedCount: Int { counts.withLock { $0.failedByClass.values.reduce(0, +) } }
    var succeededByOperation: [String: Int] { counts.withLock { $0.succeeded } }
    var failedByClass: [String: Int] { counts.withLock { $0.failedByClass } }
    var failedByOperation: [String: Int] { counts.withLock { $0.failedByOperation } }
    var acknowledgedIncrements: Int { counts.withLock { $0.acknowledgedIncrements } }
    var unknownIncrements: Int { counts.withLock { $0.unknownIncrements } }
}
