import ResilientPostgres

/// The waits of the faults that delay: on the double's clock, ending early when the task is cancelled.
enum FaultWait {
    /// How a wait ended.
    enum Ending {
        /// The wait ran its course.
        case elapsed
        /// The deadline came first.
        case deadline
        /// The task was cancelled.
        case cancelled
    }

    /// Waits `duration` on `clock`, or until `deadline` if that comes first.
    static func wait(
        _ duration: Duration?,
        deadline: ContinuousClock.Instant?,
        on clock: any ClientClock
    ) async -> Ending {
        let end = duration.map { clock.now.advanced(by: $0) }
        let until: ContinuousClock.Instant?
        let ending: Ending
        switch (end, deadline) {
        case (let end?, let deadline?): (until, ending) = end <= deadline ? (end, .elapsed) : (deadline, .deadline)
        case (let end?, nil): (until, ending) = (end, .elapsed)
        case (nil, let deadline?): (until, ending) = (deadline, .deadline)
        case (nil, nil): (until, ending) = (nil, .elapsed)
        }
        do {
            if let until {
                try await clock.sleep(until: until, tolerance: nil)
            } else {
                // No end but cancellation: a hung peer that the caller gave no deadline.
                try await Task.sleep(until: .now.advanced(by: .seconds(86_400 * 365)), clock: .continuous)
            }
            return ending
        } catch {
            return .cancelled
        }
    }
}
