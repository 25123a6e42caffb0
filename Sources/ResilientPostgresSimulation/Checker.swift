import ResilientPostgres

/// Checks the client's promises against what one schedule produced.
struct Checker {
    /// How far past its budget an operation may end, and how long a cancelled one may take to end (virtual time).
    static let margin = Duration.milliseconds(50)
    /// Outages shorter than this are not checked for their connect rate: too few connects to judge.
    static let rateWindow = Duration.seconds(5)

    let schedule: Schedule
    let outcome: ScheduleRunner.Outcome

    func violations() -> [Violation] {
        var found = outcome.model.findings.map { Violation(invariant: $0.invariant, evidence: $0.evidence) }
        let budget = schedule.configuration.budget
        let applications = outcome.model.applications

        for operation in schedule.operations {
            let record = outcome.records[operation.id]
            let name = "op \(operation.id)"
            guard let started = record.started else { continue }
            guard let ended = record.ended, let result = record.outcome else {
                found.append(.init(invariant: .ends, evidence: "\(name) (\(operation.summary)), started at "
                    + "\(started.simulated), never ended"))
                continue
            }
            let met = outcome.model.metFaults.filter { $0.operation == operation.id }
                .map { "\($0.description) at \($0.time.simulated)" }
            let said = "\(name) \(result); \(name) is \(operation.call)"
                + (met.isEmpty ? "" : "; it met \(met.joined(separator: ", "))")
            if ended - started > budget + Self.margin {
                found.append(.init(invariant: .withinBudget, evidence: "\(name) started at \(started.simulated) and "
                    + "ended at \(ended.simulated): \((ended - started).simulated) against a budget of \(budget.simulated); \(said)"))
            }
            if let cancelledAt = record.cancelledAt, ended - cancelledAt > Self.margin {
                found.append(.init(invariant: .cancelledPromptly, evidence: "\(name) cancelled at "
                    + "\(cancelledAt.simulated) ended only at \(ended.simulated); \(said)"))
            }
            if case .otherError(let text) = result {
                found.append(.init(invariant: .errorsAreReported, evidence: "\(name) threw \(text)"))
            }
            if case .failed(let failure) = result, failure.isCancelled, record.cancelledAt == nil {
                found.append(.init(invariant: .noCrossCancel, evidence: "\(name) was never cancelled but \(said)"))
            }
            if record.startedAfterShutdown, case .succeeded = result {
                found.append(.init(invariant: .nothingAfterShutdown, evidence: "\(name) started after shutdown and succeeded"))
            }
            for effect in operation.kind.effects {
                let count = applications[effect, default: 0]
                if count > 1, operation.safety != .idempotent {
                    found.append(.init(invariant: .appliedOnce, evidence: "e\(effect) of \(name) (\(operation.safety.rawValue)) "
                        + "applied \(count) times; \(said)"))
                }
                switch result {
                case .succeeded, .verifiedApplied:
                    if count == 0 {
                        found.append(.init(invariant: .acknowledgedDurable, evidence: "e\(effect) of \(name) is absent "
                            + "but \(said)"))
                    }
                case .failed(let failure):
                    if count > 0, !failure.mayHaveBeenApplied {
                        found.append(.init(invariant: .reportedHonestly, evidence: "e\(effect) of \(name) was applied "
                            + "\(count) time(s) but \(said)"))
                    }
                case .otherError:
                    if count > 0 {
                        found.append(.init(invariant: .reportedHonestly, evidence: "e\(effect) of \(name) was applied "
                            + "but \(said)"))
                    }
                }
            }
            if let repeats = outcome.model.deterministicFailures[operation.id], repeats > 2 {
                found.append(.init(invariant: .noFutileRetries, evidence: "\(name) sent `EXECUTE nope` \(repeats) times, "
                    + "each answered 26000 (prepared statement \"nope\" does not exist); \(said)"))
            }
            if let unresolved = unresolvedVerifiedCommit(operation, record) {
                found.append(.init(invariant: .verifiedCommitResolved, evidence: "\(name) \(unresolved); \(said)"))
            }
            if case .failed = result, let reason = unforcedFailure(operation, record) {
                found.append(.init(invariant: .followsPrimary, evidence: "\(name) \(result) \(reason)"))
            }
        }
        if outcome.model.maxOpenSessions > schedule.configuration.maxConnections {
            found.append(.init(invariant: .poolBounded, evidence: "\(outcome.model.maxOpenSessions) sessions open at "
                + "once with maxConnections \(schedule.configuration.maxConnections)"))
        }
        let limit = schedule.configuration.maxConcurrentConnects
        if outcome.model.maxOperationConnectsUnderWay > limit
            || outcome.model.maxConnectsUnderWay - 1 > limit {
            found.append(.init(invariant: .connectsBounded, evidence: "\(outcome.model.maxOperationConnectsUnderWay) "
                + "operations' connects (\(outcome.model.maxConnectsUnderWay) in all, the prober's included) under "
                + "way at once with maxConcurrentConnects \(limit)"))
        }
        if outcome.stuck.isEmpty, !outcome.model.openSessionNumbers.isEmpty {
            found.append(.init(invariant: .noLeaks, evidence: "sessions "
                + outcome.model.openSessionNumbers.sorted().map { "s\($0)" }.joined(separator: ", ")
                + " still open after shutdown, once every operation had ended"))
        }
        found += connectRateViolations()
        return found
    }

    /// The longest wait of the retry policy's default resource-limit backoff.
    static let resourceLimitBackoffCap = Duration.seconds(30)

    /// Why a failed operation had no cause to fail, if it had none: no fault planned for any operation met during
    /// its life (or a budget before), no window but a hung first host while the other host was the primary, no
    /// failover, no cancellation, no shutdown, and nothing it ran that always fails.
    private func unforcedFailure(_ operation: PlannedOperation, _ record: OperationRecord) -> String? {
        if case .failed(let failure) = record.outcome, failure.reason == "\(PostgresError.Reason.throttled)" {
            // The shared throttle stops retries while most attempts fail, by design, whatever caused them.
            return nil
        }
        guard let started = record.started, let ended = record.ended, record.cancelledAt == nil,
            !record.startedAfterShutdown, outcome.shutDownAt.map({ $0 > ended }) ?? true
        else { return nil }
        if case .executeUnknownStatement = operation.kind { return nil }
        if case .withConnection(let steps) = operation.kind,
            steps.contains(where: { if case .executeUnknownStatement = $0 { true } else { false } })
        {
            return nil
        }
        let from = started - schedule.configuration.budget
        let span = from...ended
        if outcome.model.metFaults.contains(where: { span.contains($0.time) }) { return nil }
        // A full server is back-pressure: after a refusal for want of slots the pool's prober may wait the
        // resource-limit backoff (up to 30 s) before it connects again, and operations wait for it.
        let backPressure = (from - Self.resourceLimitBackoffCap)...ended
        if outcome.model.metFaults.contains(where: { backPressure.contains($0.time) && $0.description.contains("53300") }) {
            return nil
        }
        if schedule.windows.contains(where: {
            $0.kind == .tooManyClients && $0.start <= ended && $0.end >= backPressure.lowerBound
        }) {
            return nil
        }
        if schedule.primarySwitches.contains(where: { span.contains($0) }) { return nil }
        let windows = schedule.windows.filter { $0.start <= ended && $0.end >= from }
        if windows.contains(where: { $0.kind != .firstHostHung }) { return nil }
        if windows.isEmpty { return "although no fault was met during its life" }
        return "although the primary (h2) was reachable: only the first host listed was hung ("
            + windows.map(\.description).joined(separator: "; ") + ")"
    }

    /// While the database refuses connects for long enough, the connects made must stay within what the pool's
    /// reconnect backoff (full jitter up to 500 ms: about 4 a second; counted as 8) or, for a full connection
    /// table, the resource-limit backoff (decorrelated from 1 s: at most 1 a second) allows, plus two per operation
    /// that was live.
    private func connectRateViolations() -> [Violation] {
        var found: [Violation] = []
        for window in schedule.windows where window.end - window.start >= Self.rateWindow {
            let perSecond: Double
            switch window.kind {
            case .down, .starting: perSecond = 8
            case .tooManyClients: perSecond = 1
            case .blackHole, .firstHostHung: continue
            }
            let connects = outcome.model.connects.count { window.contains($0) }
            let live = outcome.records.count { record in
                guard let started = record.started else { return false }
                return started < window.end && (record.ended ?? .seconds(1_000_000)) >= window.start
            }
            let seconds = (window.end - window.start) / .seconds(1)
            let allowed = Int((seconds * perSecond).rounded(.up)) + 2 * live + 2
            if connects > allowed {
                found.append(.init(invariant: .connectRate, evidence: "\(connects) connects during \(window) "
                    + "(\(Int(Double(connects) / seconds)) a second); the backoff allows about "
                    + "\(allowed) with \(live) operation(s) live"))
            }
        }
        return found
    }
}
