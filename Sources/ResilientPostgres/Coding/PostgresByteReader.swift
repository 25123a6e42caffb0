/// Reads big-endian integers from a value's bytes, front to back.
struct PostgresByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Bytes not yet read.
    var remaining: Int { bytes.count - offset }

    /// The next integer, or nil when too few bytes remain.
    mutating func read<Value: FixedWidthInteger>(_: Value.Type = Value.self) -> Value? {
        let size = MemoryLayout<Value>.size
        guard remaining >= size else { return nil }
        defer { offset += size }
        return Value(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Value.self))
    }

    /// The next `count` bytes, or nil when too few remain.
    mutating func read(count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }
}

extension UnsafeRawBufferPointer {
    /// The big-endian integer these bytes hold, or nil when the count is not its size.
    @inline(__always)
    func loadBigEndian<Value: FixedWidthInteger>(_: Value.Type) -> Value? {
        guard count == MemoryLayout<Value>.size else { return nil }
        return Value(bigEndian: loadUnaligned(as: Value.self))
    }

    /// Whether the bytes are exactly this ASCII text.
    func equalsASCII(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        return elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
