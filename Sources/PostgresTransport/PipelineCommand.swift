internal import CLibPQ

/// One request queued on a connection in pipeline mode.
enum PipelineCommand {
    /// A statement through the unnamed statement (`PQsendQueryParams`).
    case statement(sql: String, parameters: [Parameter])
    /// Prepares a named statement (`PQsendPrepare`), with the parameter types fixed.
    case prepare(name: String, sql: String, parameterTypes: [PostgresOID])
    /// Runs a named statement prepared earlier (`PQsendQueryPrepared`).
    case executePrepared(name: String, parameters: [Parameter])
    /// A synchronization point (`PQpipelineSync`): the statements since the previous one form one implicit
    /// transaction, which commits here unless a statement failed (or an explicit transaction block is open).
    case sync

    var isSync: Bool {
        if case .sync = self { return true }
        return false
    }

    /// Queues the command on `connection`, which must be in pipeline mode. Returns false when libpq refused it
    /// (`PQerrorMessage` says why).
    ///
    /// libpq only appends to its output buffer here, flushing it when it grows past its threshold; in non-blocking
    /// mode a socket that takes no more leaves the rest in the buffer for `PQflush`.
    func send(on connection: OpaquePointer, resultFormat: ValueFormat) -> Bool {
        switch self {
        case .statement(let sql, let parameters):
            // `withCString`: libpq gets the string's own NUL-terminated UTF-8, where passing `sql` itself would copy
            // it to the heap through `utf8CString` for every statement.
            return sql.withCString { sql in
                ParameterBuffers.withBuffers(for: parameters) { count, types, values, lengths, formats in
                    PQsendQueryParams(connection, sql, count, types, values, lengths, formats, resultFormat.rawValue)
                }
            } == 1
        case .prepare(let name, let sql, let parameterTypes):
            return name.withCString { name in
                sql.withCString { sql in
                    parameterTypes.withUnsafeBufferPointer { types in
                        PQsendPrepare(connection, name, sql, Int32(types.count), types.baseAddress)
                    }
                }
            } == 1
        case .executePrepared(let name, let parameters):
            return name.withCString { name in
                ParameterBuffers.withBuffers(for: parameters) { count, _, values, lengths, formats in
                    PQsendQueryPrepared(connection, name, count, values, lengths, formats, resultFormat.rawValue)
                }
            } == 1
        case .sync:
            return PQpipelineSync(connection) == 1
        }
    }
}

/// The commands a pipeline is to queue, syncs included, in order: how many, and each by its position, made only
/// when it is queued.
///
/// A batch's statements are held once, as the caller's `BatchStatement`s: a plan of them makes each statement's
/// command as it is queued, rather than holding a second array of the whole batch (48 bytes a statement) for as
/// long as the batch runs.
struct PipelinePlan {
    let count: Int
    let command: (Int) -> PipelineCommand
    /// Whether the command at a position is a sync, without making the command.
    let isSync: (Int) -> Bool

    /// The commands as given.
    init(_ commands: [PipelineCommand]) {
        count = commands.count
        command = { commands[$0] }
        isSync = { commands[$0].isSync }
    }

    /// Each statement in order, then a sync.
    init(statements: [BatchStatement]) {
        count = statements.count + 1
        isSync = { $0 == statements.count }
        command = { index in
            guard index < statements.count else { return .sync }
            return .statement(sql: statements[index].sql, parameters: statements[index].parameters)
        }
    }
}
