extension PostgresRow {
    /// How the coding keys of a `Decodable` type are matched to column names.
    public struct KeyDecodingStrategy: Sendable, Hashable {
        enum Base: Sendable, Hashable { case useDefaultKeys, convertFromSnakeCase }
        let base: Base

        /// A key matches the column with exactly its name.
        public static let useDefaultKeys = KeyDecodingStrategy(base: .useDefaultKeys)
        /// A column named `user_id` matches the key `userId`, as `JSONDecoder`'s strategy of the same name.
        public static let convertFromSnakeCase = KeyDecodingStrategy(base: .convertFromSnakeCase)
    }

    /// Decodes the row into a `Decodable` type whose properties are columns.
    ///
    /// Each property is a column of the same name (see `keyDecodingStrategy`) and must be ``PostgresDecodable``;
    /// an optional property accepts NULL or a missing column. A nested `Decodable` property throws
    /// ``PostgresDecodingError/Code/unsupportedShape``: store it as JSON and wrap it in ``PostgresJSON``.
    ///
    /// - Throws: ``PostgresDecodingError``, or what the type's `init(from:)` throws.
    public func decode<T: Decodable>(
        _ type: T.Type, keyDecodingStrategy: KeyDecodingStrategy = .useDefaultKeys
    ) throws -> T {
        try decode(type, columns: PostgresColumnLookup(result: result, strategy: keyDecodingStrategy))
    }

    func decode<T: Decodable>(_ type: T.Type, columns: PostgresColumnLookup) throws -> T {
        try T(from: PostgresRowDecoder(row: self, columns: columns))
    }
}

extension PostgresRows {
    /// Decodes every row into a `Decodable` type whose properties are columns; see
    /// ``PostgresRow/decode(_:keyDecodingStrategy:)``.
    ///
    /// - Throws: The first row's error.
    public func decode<T: Decodable>(
        _ type: T.Type, keyDecodingStrategy: PostgresRow.KeyDecodingStrategy = .useDefaultKeys
    ) throws -> [T] {
        let columns = PostgresColumnLookup(result: result, strategy: keyDecodingStrategy)
        return try map { row in try row.decode(type, columns: columns) }
    }
}
