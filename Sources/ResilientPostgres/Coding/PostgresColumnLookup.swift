internal import PostgresTransport

/// Column indexes by coding-key name, computed once per result.
struct PostgresColumnLookup {
    private var indexes: [String: Int] = [:]
    /// The key names, in column order.
    private(set) var keys: [String] = []

    init(result: QueryResult, strategy: PostgresRow.KeyDecodingStrategy) {
        for column in 0..<result.columnCount {
            let name = result.columnName(column)
            let key = strategy.base == .convertFromSnakeCase ? Self.camelCase(fromSnakeCase: name) : name
            if indexes[key] == nil {
                indexes[key] = column
                keys.append(key)
            }
        }
    }

    /// The column for a coding key, or nil.
    func column(for key: String) -> Int? {
        indexes[key]
    }

    /// `user_id` → `userId`, keeping leading and trailing underscores, like `JSONDecoder`.
    static func camelCase(fromSnakeCase name: String) -> String {
        guard let first = name.firstIndex(where: { $0 != "_" }) else { return name }
        var last = name.index(before: name.endIndex)
        while name[last] == "_" { last = name.index(before: last) }
        let words = name[first...last].split(separator: "_")
        guard words.count > 1 else { return name }
        var result = String(name[..<first]) + words[0].lowercased()
        for word in words.dropFirst() {
            result += word.prefix(1).uppercased() + word.dropFirst().lowercased()
        }
        return result + name[name.index(after: last)...]
    }
}
