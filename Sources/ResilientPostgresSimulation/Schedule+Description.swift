extension PlannedOperation {
    /// The operation in one line: API, statements, options, cancellation and planned faults.
    var summary: String {
        var text = call
        if !statementFaults.isEmpty {
            text += "; statement faults [\(statementFaults.map { $0?.description ?? "-" }.joined(separator: ", "))]"
        }
        if !connectFaults.isEmpty {
            text += "; connect faults [\(connectFaults.map { $0?.description ?? "-" }.joined(separator: ", "))]"
        }
        return text
    }

    /// The call the operation makes: API, statements, options and cancellation.
    var call: String {
        var text: String
        switch kind {
        case .execute(let effect): text = "execute(INSERT e\(effect))"
        case .query: text = "query(SELECT 1)"
        case .transaction(let effects): text = "transaction { \(effects.map { "INSERT e\($0)" }.joined(separator: "; ")) }"
        case .withConnection(let steps): text = "withConnection { \(steps.map(\.description).joined(separator: "; ")) }"
        case .batch(let effects): text = "batch [\(effects.map { "INSERT e\($0)" }.joined(separator: ", "))]"
        case .executeVerified(let effect): text = "execute(INSERT e\(effect), verifyingWith: read e\(effect))"
        case .transactionVerified(let effects):
            text = "transaction(verifyingWith: read e\(effects[0])) { \(effects.map { "INSERT e\($0)" }.joined(separator: "; ")) }"
        case .executeCommitVerified(let effect): text = "execute(INSERT e\(effect)) verified commit"
        case .transactionCommitVerified(let effects):
            text = "transaction { \(effects.map { "INSERT e\($0)" }.joined(separator: "; ")) } verified commit"
        case .executeUnknownStatement: text = "execute(EXECUTE nope)"
        }
        text += " options .\(safety.rawValue)"
        if let cancelAfter { text += ", cancelled after \(cancelAfter.simulated)" }
        return text
    }
}

extension Schedule {
    /// The schedule in a few lines: configuration, database faults, and each caller's operations.
    var description: String {
        var lines = ["seed \(seed): \(configuration)"]
        for window in windows { lines.append("  window \(window)") }
        for time in primarySwitches { lines.append("  primary moves to the other host at \(time.simulated)") }
        if let shutdownAt { lines.append("  client shut down at \(shutdownAt.simulated)") }
        for operation in operations {
            lines.append("  op \(operation.id) (caller \(operation.caller), after \(operation.delay.simulated)): \(operation.summary)")
        }
        return lines.joined(separator: "\n")
    }
}
