internal import CLibPQ
import Synchronization

extension LibPQConnection {
    /// Whether the session is open, not broken, no statement runs on it, and it is outside any transaction block,
    /// as of the end of its last statement; readable from any thread without waiting for the actor.
    ///
    /// Published whenever a statement begins or ends and when the session closes, from `PQstatus` and
    /// `PQtransactionStatus` at that point. A pool reads it when a session comes back, to decide whether it may be
    /// lent again.
    public nonisolated var isIdleOutsideTransaction: Bool {
        readiness.load(ordering: .acquiring)
    }

    /// Publishes ``isIdleOutsideTransaction`` for the session's state now.
    func publishReadiness() {
        let ready = !isRunningStatement && connection.map(Self.isIdleOutsideTransaction) ?? false
        readiness.store(ready, ordering: .releasing)
    }

    static func isIdleOutsideTransaction(_ connection: OpaquePointer) -> Bool {
        PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) == PQTRANS_IDLE
    }
}
