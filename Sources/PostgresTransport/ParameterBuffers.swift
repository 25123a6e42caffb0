#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lays bound parameters out as `PQsendQueryParams` wants them (types, value pointers, lengths, formats), in
/// temporary storage that lives only for the call.
enum ParameterBuffers {
    static func withBuffers<Result>(
        for parameters: [Parameter],
        _ body: (
            _ count: Int32,
            _ types: UnsafePointer<UInt32>?,
            _ values: UnsafePointer<UnsafePointer<CChar>?>?,
            _ lengths: UnsafePointer<Int32>?,
            _ formats: UnsafePointer<Int32>?
        ) -> Result
    ) -> Result {
        let count = parameters.count
        if count == 0 {
            return body(0, nil, nil, nil, nil)
        }
        var byteCount = 0
        for parameter in parameters {
            switch parameter.value {
            case .null: break
            case .text(let text): byteCount += text.utf8.count + 1  // text values are NUL-terminated
            case .binary(let bytes): byteCount += bytes.count
            case .inlineBinary(_, let count): byteCount += Int(count)
            }
        }
        // One block of temporary storage for all of it: the value pointers first, at their alignment, then the
        // types, lengths and formats, then the values' bytes. Each temporary allocation is a closure call of its own.
        let pointerBytes = count * MemoryLayout<UnsafePointer<CChar>?>.stride
        let wordBytes = count * MemoryLayout<Int32>.stride
        return withUnsafeTemporaryAllocation(
            byteCount: pointerBytes + 3 * wordBytes + byteCount,
            alignment: MemoryLayout<UnsafePointer<CChar>?>.alignment
        ) { block in
            let base = block.baseAddress!
            let values = base.bindMemory(to: UnsafePointer<CChar>?.self, capacity: count)
            let types = (base + pointerBytes).bindMemory(to: UInt32.self, capacity: count)
            let lengths = (base + pointerBytes + wordBytes).bindMemory(to: Int32.self, capacity: count)
            let formats = (base + pointerBytes + 2 * wordBytes).bindMemory(to: Int32.self, capacity: count)
            var start = base + pointerBytes + 3 * wordBytes
            for (index, parameter) in parameters.enumerated() {
                types[index] = parameter.type
                switch parameter.value {
                case .null:
                    values[index] = nil
                    lengths[index] = 0
                    formats[index] = ValueFormat.text.rawValue
                case .text(let text):
                    let written = copy(text.utf8, to: start)
                    start.storeBytes(of: 0, toByteOffset: written, as: UInt8.self)
                    values[index] = UnsafePointer(start.assumingMemoryBound(to: CChar.self))
                    lengths[index] = Int32(written)
                    formats[index] = ValueFormat.text.rawValue
                    start += written + 1
                case .binary(let bytes):
                    let written = copy(bytes, to: start)
                    values[index] = UnsafePointer(start.assumingMemoryBound(to: CChar.self))
                    lengths[index] = Int32(written)
                    formats[index] = ValueFormat.binary.rawValue
                    start += written
                case .inlineBinary(let word, let length):
                    withUnsafeBytes(of: word) { start.copyMemory(from: $0.baseAddress!, byteCount: Int(length)) }
                    values[index] = UnsafePointer(start.assumingMemoryBound(to: CChar.self))
                    lengths[index] = Int32(length)
                    formats[index] = ValueFormat.binary.rawValue
                    start += Int(length)
                }
            }
            return body(
                Int32(count), UnsafePointer(types), UnsafePointer(values), UnsafePointer(lengths),
                UnsafePointer(formats)
            )
        }
    }

    private static func copy<Bytes: Collection<UInt8>>(_ bytes: Bytes, to destination: UnsafeMutableRawPointer) -> Int {
        let copied = bytes.withContiguousStorageIfAvailable { buffer in
            if let base = buffer.baseAddress { destination.copyMemory(from: base, byteCount: buffer.count) }
            return buffer.count
        }
        if let copied { return copied }
        var count = 0
        for byte in bytes {
            destination.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
            count += 1
        }
        return count
    }
}

extension Parameter {
    /// True for a text value with a NUL byte, which libpq would silently cut short.
    var containsNUL: Bool {
        guard case .text(let text) = value else { return false }
        // memchr where the text is contiguous UTF-8 (native strings are): large values are checked at memory speed.
        return text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        } ?? text.utf8.contains(0)
    }
}
