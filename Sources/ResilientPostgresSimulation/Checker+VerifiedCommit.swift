import ResilientPostgres

extension Checker {
    /// Why a write with a verified commit that ended as an unknown outcome had no cause to, if it had none.
    ///
    /// The lost answer is one fault the operation met. Its check (ending nothing here, then claiming and reading the
    /// marker) is defeated only by more: a second fault met by the operation, an outage, a hung or black-holed
    /// host, a cancellation or a shutdown. Running out of budget or attempts is reported as such, not as unknown.
    func unresolvedVerifiedCommit(_ operation: PlannedOperation, _ record: OperationRecord) -> String? {
        guard operation.kind.verifiesCommit, case .failed(let failure) = record.outcome, failure.mayHaveBeenApplied,
            failure.reason == "\(PostgresError.Reason.outcomeUnknown)", record.cancelledAt == nil,
            !record.startedAfterShutdown, let started = record.started, let ended = record.ended,
            outcome.shutDownAt.map({ $0 > ended }) ?? true
        else { return nil }
        let life = started...ended
        let met = outcome.model.metFaults.filter { $0.operation == operation.id && life.contains($0.time) }
        if met.count >= 2 { return nil }
        if schedule.windows.contains(where: { $0.start <= ended && $0.end >= started }) { return nil }
        return "was reported unknown although its check could reach the primary, with \(met.count) fault met"
    }
}
