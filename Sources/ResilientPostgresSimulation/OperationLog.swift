import Synchronization

/// The records of a schedule's operations, shared by the driver and the operations' tasks.
final class OperationLog: Sendable {
    private let records: Mutex<[OperationRecord]>

    init(_ operations: [PlannedOperation]) {
        records = Mutex(operations.map { OperationRecord(id: $0.id) })
    }

    /// A copy of every record.
    var snapshot: [OperationRecord] { records.withLock { $0 } }

    /// Changes one record.
    func update(_ id: Int, _ change: (inout OperationRecord) -> Void) {
        records.withLock { change(&$0[id]) }
    }
}
