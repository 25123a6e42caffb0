public import ResilientPostgres
import PostgresTransport

/// What a ``ScriptedDatabase`` answers a statement with: rows, a command tag (with its row count), or a fault.
///
/// Rows are built into a real libpq result, so they decode exactly as a server's would:
/// ```swift
/// database.answer("SELECT id, amount FROM payments", with: .rows(["id", "amount"], [[1, 1200], [2, 800]]))
/// database.answer("INSERT INTO payments", with: .inserted(1))
/// ```
public struct ScriptedAnswer: Sendable {
    enum Content: Sendable {
        case result(columns: [QueryResult.Column], rows: [[[UInt8]?]], commandTag: String)
        case fault(StatementFault)
        /// The script itself is wrong (a value that does not encode, columns of mixed types): the statement fails
        /// with this explanation, so the test sees it.
        case invalid(String)
    }

    let content: Content

    /// Rows of values, each encoded as the client would bind it (`Int` as `int8`, `String` as `text`, `nil` of an
    /// optional as NULL), in columns named `columns`. Each column's type is its first non-NULL value's.
    public static func rows(_ columns: [String], _ rows: [[any PostgresEncodable]]) -> ScriptedAnswer {
        do {
            let encoded = try rows.map { row in try row.map { try $0.makeParameter() } }
            return make(columns, encoded)
        } catch {
            return ScriptedAnswer(content: .invalid("a scripted value did not encode: \(error)"))
        }
    }

    /// One row with one value, in a column named `column` (`SELECT count(*)`, say).
    public static func value(_ value: any PostgresEncodable, column: String = "?column?") -> ScriptedAnswer {
        rows([column], [[value]])
    }

    /// Rows given in PostgreSQL's text format (`"42"`, `"2024-01-31"`, `"t"`, nil for NULL), in columns of the given
    /// names and types.
    public static func textRows(
        _ columns: [(name: String, type: PostgresDataType)],
        _ rows: [[String?]]
    ) -> ScriptedAnswer {
        guard rows.allSatisfy({ $0.count == columns.count }) else {
            return ScriptedAnswer(content: .invalid("every scripted row needs one value per column"))
        }
        return ScriptedAnswer(content: .result(
            columns: columns.map { QueryResult.Column(name: $0.name, type: $0.type.rawValue, format: .text) },
            rows: rows.map { row in row.map { $0.map { Array($0.utf8) } } },
            commandTag: "SELECT \(rows.count)"
        ))
    }

    /// A statement that returns no rows, with this command tag (`CREATE TABLE`, `UPDATE 3`); the tag's count is
    /// what `execute` returns.
    public static func command(_ tag: String) -> ScriptedAnswer {
        ScriptedAnswer(content: .result(columns: [], rows: [], commandTag: tag))
    }

    /// An `INSERT` of `count` rows (`INSERT 0 count`).
    public static func inserted(_ count: Int) -> ScriptedAnswer { command("INSERT 0 \(count)") }

    /// An `UPDATE` of `count` rows.
    public static func updated(_ count: Int) -> ScriptedAnswer { command("UPDATE \(count)") }

    /// A `DELETE` of `count` rows.
    public static func deleted(_ count: Int) -> ScriptedAnswer { command("DELETE \(count)") }

    /// The statement meets `fault` instead of an answer.
    public static func fault(_ fault: StatementFault) -> ScriptedAnswer {
        ScriptedAnswer(content: .fault(fault))
    }

    private static func make(_ names: [String], _ rows: [[Parameter]]) -> ScriptedAnswer {
        guard rows.allSatisfy({ $0.count == names.count }) else {
            return ScriptedAnswer(content: .invalid("every scripted row needs one value per column"))
        }
        var columns: [QueryResult.Column] = []
        for (index, name) in names.enumerated() {
            let values = rows.map { $0[index] }
            // A text value the server was to type (a `String`) is `text`.
            func columnType(_ value: Parameter) -> PostgresOID {
                value.type == PostgresDataType.unspecified.rawValue ? PostgresDataType.text.rawValue : value.type
            }
            let first = values.first { !$0.isNull } ?? values.first
            let type = first.map(columnType) ?? PostgresDataType.text.rawValue
            let format = values.lazy.compactMap(\.format).first ?? .text
            guard values.allSatisfy({ $0.isNull || ($0.format == format && columnType($0) == type) }) else {
                return ScriptedAnswer(content: .invalid("the values of scripted column \(name) are of different types"))
            }
            columns.append(QueryResult.Column(name: name, type: type, format: format))
        }
        return ScriptedAnswer(content: .result(
            columns: columns, rows: rows.map { row in row.map(\.bytes) }, commandTag: "SELECT \(rows.count)"
        ))
    }
}
