/// A `Decoder` that reads a row's columns as the properties of a `Decodable` type.
struct PostgresRowDecoder: Decoder {
    let row: PostgresRow
    let columns: PostgresColumnLookup

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(KeyedContainer<Key>(row: row, columns: columns))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw unsupported("a row decodes into a keyed type (a struct), not an unkeyed one")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw unsupported("a row decodes into a keyed type (a struct); decode a single column with decode(_:column:)")
    }

    private func unsupported(_ reason: String) -> PostgresDecodingError {
        PostgresDecodingError(.unsupportedShape, reason: reason)
    }

    /// Maps each key to the column of the same (converted) name, and decodes it with ``PostgresDecodable``.
    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: PostgresRow
        let columns: PostgresColumnLookup

        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { columns.keys.compactMap(Key.init(stringValue:)) }

        func contains(_ key: Key) -> Bool {
            columns.column(for: key.stringValue) != nil
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            try cell(for: key, type: Any?.self).isNull
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let decodable = T.self as? any PostgresDecodable.Type else {
                throw PostgresDecodingError(
                    .unsupportedShape,
                    reason: "a property of a Decodable type is not PostgresDecodable; wrap it in PostgresJSON"
                ).located(
                    column: columns.column(for: key.stringValue), columnName: key.stringValue, dataType: nil,
                    format: nil, swiftType: T.self, value: nil
                )
            }
            return try decodeColumn(decodable, forKey: key) as! T  // decodable is T.self
        }

        private func decodeColumn<Value: PostgresDecodable>(_ type: Value.Type, forKey key: Key) throws -> Value {
            try cell(for: key, type: type).decode(type)
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeColumn(type, forKey: key) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeColumn(type, forKey: key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeColumn(type, forKey: key) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeColumn(type, forKey: key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeColumn(type, forKey: key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeColumn(type, forKey: key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeColumn(type, forKey: key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeColumn(type, forKey: key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try narrow(forKey: key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try narrow(forKey: key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeColumn(type, forKey: key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try narrow(forKey: key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try narrow(forKey: key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try narrow(forKey: key) }

        /// An integer type PostgreSQL lacks, read from `int2`, `int4` or `int8` and range-checked.
        private func narrow<Value: FixedWidthInteger>(forKey key: Key) throws -> Value {
            let cell = try cell(for: key, type: Value.self)
            let wide = try cell.decode(Int64.self)
            guard let value = Value(exactly: wide) else {
                throw PostgresDecodingError(.outOfRange, reason: "the value does not fit \(Value.self)").located(
                    column: cell.columnIndex, columnName: cell.columnName, dataType: cell.dataType,
                    format: cell.format, swiftType: Value.self, value: nil
                )
            }
            return value
        }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type, forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            throw PostgresDecodingError(.unsupportedShape, reason: "nested containers; wrap the value in PostgresJSON")
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw PostgresDecodingError(.unsupportedShape, reason: "nested containers; wrap the value in PostgresJSON")
        }

        func superDecoder() throws -> any Decoder {
            throw PostgresDecodingError(.unsupportedShape, reason: "superclass decoding")
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            throw PostgresDecodingError(.unsupportedShape, reason: "superclass decoding")
        }

        private func cell(for key: Key, type: Any.Type) throws -> PostgresCell {
            guard let column = columns.column(for: key.stringValue) else {
                throw row.missingColumn(type, index: nil, name: key.stringValue)
            }
            return row[column: column]
        }
    }
}
