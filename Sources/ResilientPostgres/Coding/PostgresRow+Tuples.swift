// Rows of two, three and four columns decoded into tuples without generic dispatch.
//
// The variadic `decode((repeat each T).Type)` walks its pack of types at run time: every cell is an unspecialised
// call, with a metadata lookup and copies through value witnesses. These overloads are more specific than the
// variadic one, so the compiler picks them for the arities they cover, and they are inlinable, so that a row of
// (Int, String, Date) decodes as straight-line code specialised in the caller's module; a row's are always inlined,
// which the optimizer's own measure would leave a call from a long async loop such as a row stream's consumer. They
// decode exactly as the variadic one does: the arity is checked first, then each column in order.

extension PostgresRow {
    /// Decodes a two-column row into a tuple, as the variadic `decode` does.
    @inlinable @inline(__always)
    public func decode<A: PostgresDecodable, B: PostgresDecodable>(
        _: (A, B).Type
    ) throws(PostgresDecodingError) -> (A, B) {
        guard columnCount == 2 else { throw columnCountMismatch(decoding: 2) }
        return (try decodeUnchecked(A.self, column: 0), try decodeUnchecked(B.self, column: 1))
    }

    /// Decodes a three-column row into a tuple, as the variadic `decode` does.
    @inlinable @inline(__always)
    public func decode<A: PostgresDecodable, B: PostgresDecodable, C: PostgresDecodable>(
        _: (A, B, C).Type
    ) throws(PostgresDecodingError) -> (A, B, C) {
        guard columnCount == 3 else { throw columnCountMismatch(decoding: 3) }
        return (
            try decodeUnchecked(A.self, column: 0), try decodeUnchecked(B.self, column: 1),
            try decodeUnchecked(C.self, column: 2)
        )
    }

    /// Decodes a four-column row into a tuple, as the variadic `decode` does.
    @inlinable @inline(__always)
    public func decode<A: PostgresDecodable, B: PostgresDecodable, C: PostgresDecodable, D: PostgresDecodable>(
        _: (A, B, C, D).Type
    ) throws(PostgresDecodingError) -> (A, B, C, D) {
        guard columnCount == 4 else { throw columnCountMismatch(decoding: 4) }
        return (
            try decodeUnchecked(A.self, column: 0), try decodeUnchecked(B.self, column: 1),
            try decodeUnchecked(C.self, column: 2), try decodeUnchecked(D.self, column: 3)
        )
    }
}

extension PostgresRows {
    /// Decodes every row of a two-column result into a tuple, as the variadic `decode` does.
    @inlinable
    public func decode<A: PostgresDecodable, B: PostgresDecodable>(
        _: (A, B).Type
    ) throws(PostgresDecodingError) -> [(A, B)] {
        try checkArity(2)
        var decoded: [(A, B)] = []
        decoded.reserveCapacity(count)
        for row in 0..<count {
            decoded.append((
                try result.decodeUnchecked(A.self, row: row, column: 0),
                try result.decodeUnchecked(B.self, row: row, column: 1)
            ))
        }
        return decoded
    }

    /// Decodes every row of a three-column result into a tuple, as the variadic `decode` does.
    @inlinable
    public func decode<A: PostgresDecodable, B: PostgresDecodable, C: PostgresDecodable>(
        _: (A, B, C).Type
    ) throws(PostgresDecodingError) -> [(A, B, C)] {
        try checkArity(3)
        var decoded: [(A, B, C)] = []
        decoded.reserveCapacity(count)
        for row in 0..<count {
            decoded.append((
                try result.decodeUnchecked(A.self, row: row, column: 0),
                try result.decodeUnchecked(B.self, row: row, column: 1),
                try result.decodeUnchecked(C.self, row: row, column: 2)
            ))
        }
        return decoded
    }

    /// Decodes every row of a four-column result into a tuple, as the variadic `decode` does.
    @inlinable
    public func decode<A: PostgresDecodable, B: PostgresDecodable, C: PostgresDecodable, D: PostgresDecodable>(
        _: (A, B, C, D).Type
    ) throws(PostgresDecodingError) -> [(A, B, C, D)] {
        try checkArity(4)
        var decoded: [(A, B, C, D)] = []
        decoded.reserveCapacity(count)
        for row in 0..<count {
            decoded.append((
                try result.decodeUnchecked(A.self, row: row, column: 0),
                try result.decodeUnchecked(B.self, row: row, column: 1),
                try result.decodeUnchecked(C.self, row: row, column: 2),
                try result.decodeUnchecked(D.self, row: row, column: 3)
            ))
        }
        return decoded
    }

    /// Throws the error each row's decode would throw when `arity` is not the number of columns, which every row
    /// shares: the rows are then decoded without a check, or a reference to the result, per row.
    @usableFromInline
    func checkArity(_ arity: Int) throws(PostgresDecodingError) {
        guard isEmpty || result.columnCount == arity else { throw self[0].columnCountMismatch(decoding: arity) }
    }
}
