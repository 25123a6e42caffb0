import ResilientPostgres

/// Runs one planned operation through the client's public API and reports how it ended.
enum Workload {
    static func perform(_ operation: PlannedOperation, on client: PostgresClient) async -> OperationRecord.Outcome {
        var options: OperationOptions =
            switch operation.safety {
            case .write: .write
            case .readOnly: .readOnly
            case .idempotent: .idempotent
            }
        options.verifiesCommit = operation.kind.verifiesCommit
        do {
            switch operation.kind {
            case .execute(let effect):
                try await client.execute(insert(effect), options: options)
            case .query:
                _ = try await client.query("SELECT 1", options: options)
            case .executeCommitVerified(let effect):
                try await client.execute(insert(effect), options: options)
            case .transaction(let effects), .transactionCommitVerified(let effects):
                try await client.transaction(options: options) { transaction in
                    for effect in effects { try await transaction.execute(insert(effect)) }
                }
            case .withConnection(let steps):
                try await client.withConnection(options: options) { connection in
                    for step in steps { try await run(step, operation: operation.id, on: connection) }
                }
            case .batch(let effects):
                try await client.batch(effects.map(insert), options: options)
            case .executeVerified(let effect):
                let outcome = try await client.execute(insert(effect), options: options, verifyingWith: { client in
                    try await isPresent(effect, client)
                })
                if outcome == .appliedEarlier { return .verifiedApplied }
            case .transactionVerified(let effects):
                let outcome = try await client.transaction(options: options, verifyingWith: { client in
                    try await isPresent(effects[0], client)
                }) { transaction in
                    for effect in effects { try await transaction.execute(insert(effect)) }
                }
                if case .appliedEarlier = outcome { return .verifiedApplied }
            case .executeUnknownStatement:
                try await client.execute("EXECUTE nope", options: options)
            }
            return .succeeded
        } catch let error as PostgresError {
            return .failed(OperationRecord.Failure(error))
        } catch {
            return .otherError(String(describing: error))
        }
    }

    private static func run(_ step: LeaseStep, operation: Int, on connection: PostgresConnection) async throws {
        switch step {
        case .insert(let effect): try await connection.execute(insert(effect))
        case .set: try await connection.execute(PostgresQuery(unsafeSQL: "SET application_name = 'op\(operation)'"))
        case .lock(let key): _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_lock(\(key))"))
        case .select: _ = try await connection.query("SELECT 1")
        case .executeUnknownStatement: try await connection.execute("EXECUTE nope")
        case .beginLeftOpen: try await connection.execute("BEGIN")
        }
    }

    private static func insert(_ effect: Int) -> PostgresQuery {
        PostgresQuery(unsafeSQL: "INSERT INTO effects VALUES (\(effect))")
    }

    private static func isPresent(_ effect: Int, _ client: PostgresClient) async throws -> Bool {
        try await client.query(PostgresQuery(unsafeSQL: "SELECT id FROM effects WHERE id = \(effect)"), options: .readOnly)
            .count == 1
    }
}
