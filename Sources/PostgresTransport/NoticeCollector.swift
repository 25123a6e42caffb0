internal import CLibPQ
import PostgresPolicy

/// Receives a connection's notices from libpq (`PQsetNoticeReceiver`): keeps those of the running statement, so
/// that a WARNING preceding a lost connection can explain it, and passes each to the application's handler.
///
/// libpq calls the receiver synchronously from within the libpq call that read the notice, so it runs wherever the
/// connection's owner runs; the collector is owned by that connection and touched by no one else.
final class NoticeCollector {
    /// Unchecked for exclusivity at run time, which would cost every statement's `reset` a check of its own: the
    /// collector is touched only by its connection, one call at a time, and no access to the notices outlasts the
    /// call that made it, so two can never overlap.
    @exclusivity(unchecked) private(set) var notices: [Notice] = []
    private let handler: (@Sendable (Notice) -> Void)?

    init(handler: (@Sendable (Notice) -> Void)?) {
        self.handler = handler
    }

    /// Forgets the notices of the previous statement.
    func reset() {
        if !notices.isEmpty { notices.removeAll(keepingCapacity: true) }
    }

    /// Forgets the notices of the previous wait but the last operator intervention, which the server may have sent
    /// just before closing, in the same read as notifications handed over already.
    func resetKeepingOperatorIntervention() {
        let kept = lastOperatorIntervention
        reset()
        if let kept { notices.append(kept) }
    }

    /// The last WARNING whose SQLSTATE is of class 57 (operator intervention): the server's word on why it is
    /// about to close the connection (57P01 shutdown, 57P02 crash of another backend).
    var lastOperatorIntervention: Notice? {
        notices.last { SQLState.Class.operatorIntervention ~= $0.sqlState }
    }

    /// The last notice saying that the transaction committed locally but might not have reached a synchronous
    /// standby (a cancelled wait for synchronous replication).
    var lastLocalCommit: Notice? {
        notices.last { $0.detail?.lowercased().contains("already committed locally") ?? false }
    }

    /// Installs this collector as the connection's notice receiver. The collector must outlive the connection.
    func install(on connection: OpaquePointer) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        PQsetNoticeReceiver(connection, { context, result in
            guard let context, let result else { return }
            let collector = Unmanaged<NoticeCollector>.fromOpaque(context).takeUnretainedValue()
            collector.receive(result)
        }, context)
    }

    private func receive(_ result: OpaquePointer) {
        let fields = DiagnosticFields(result)
        let notice = Notice(
            severity: fields.severity,
            sqlState: fields.sqlState,
            message: fields.message ?? "",
            detail: fields.detail,
            hint: fields.hint
        )
        notices.append(notice)
        handler?(notice)
    }
}
