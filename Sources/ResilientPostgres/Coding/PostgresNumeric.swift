internal import Foundation

/// A `numeric` value as decimal digits: `sign × digits × 10^exponent`, or one of the special values.
struct PostgresNumeric {
    enum Special { case nan, infinity, negativeInfinity }

    var isNegative = false
    /// Decimal digits, most significant first, each 0...9, without leading zeros.
    var digits: [UInt8] = []
    /// The power of ten of the last digit.
    var exponent = 0
    /// Digits after the decimal point to show (`numeric`'s display scale).
    var scale = 0
    var special: Special?

    private static let positive: UInt16 = 0x0000
    private static let negative: UInt16 = 0x4000
    private static let nanSign: UInt16 = 0xC000
    private static let infinitySign: UInt16 = 0xD000
    private static let negativeInfinitySign: UInt16 = 0xF000

    init(special: Special) {
        self.special = special
    }

    private init() {}

    /// The digits of a `Decimal`, read from its canonical description (`-123.45`, never exponent notation).
    init(_ decimal: Decimal) {
        if decimal.isNaN {
            special = .nan
            return
        }
        var fractionDigits = 0
        var seenPoint = false
        for byte in decimal.description.utf8 {
            switch byte {
            case UInt8(ascii: "-"): isNegative = true
            case UInt8(ascii: "."): seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte - UInt8(ascii: "0")) }
                if seenPoint { fractionDigits += 1 }
            default: break
            }
        }
        exponent = -fractionDigits
        scale = fractionDigits
        if digits.isEmpty { isNegative = false }
    }

    /// Appends `numeric`'s binary format: counts, weight, sign, display scale, then base-10000 digits.
    func encode(into buffer: inout [UInt8]) {
        if let special {
            let sign = switch special {
            case .nan: Self.nanSign
            case .infinity: Self.infinitySign
            case .negativeInfinity: Self.negativeInfinitySign
            }
            for field in [0, 0, sign, 0] as [UInt16] { buffer.appendBigEndian(field) }
            return
        }
        // Pad so that the decimal point falls on a group boundary: the last digit sits at 10^exponent.
        let padRight = ((exponent % 4) + 4) % 4
        let lastGroupPower = (exponent - padRight) / 4
        var padded = digits + [UInt8](repeating: 0, count: padRight)
        let padLeft = (4 - padded.count % 4) % 4
        padded.insert(contentsOf: [UInt8](repeating: 0, count: padLeft), at: 0)
        var groups: [Int16] = stride(from: 0, to: padded.count, by: 4).map { start in
            Int16(padded[start..<(start + 4)].reduce(0) { $0 * 10 + Int($1) })
        }
        var weight = lastGroupPower + groups.count - 1
        while let first = groups.first, first == 0 {
            groups.removeFirst()
            weight -= 1
        }
        while let last = groups.last, last == 0 { groups.removeLast() }
        if groups.isEmpty { weight = 0 }
        buffer.appendBigEndian(Int16(groups.count))
        buffer.appendBigEndian(Int16(weight))
        buffer.appendBigEndian(isNegative && !groups.isEmpty ? Self.negative : Self.positive)
        buffer.appendBigEndian(UInt16(max(scale, 0)))
        for group in groups { buffer.appendBigEndian(group) }
    }

    /// Reads `numeric`'s binary format.
    static func decodeBinary(_ bytes: UnsafeRawBufferPointer) throws(PostgresDecodingError) -> PostgresNumeric {
        var reader = PostgresByteReader(bytes)
        guard let count = reader.read(Int16.self), let weight = reader.read(Int16.self),
            let sign = reader.read(UInt16.self), let scale = reader.read(UInt16.self), count >= 0,
            reader.remaining == Int(count) * 2
        else { throw .malformed("not a binary numeric") }
        switch sign {
        case nanSign: return PostgresNumeric(special: .nan)
        case infinitySign: return PostgresNumeric(special: .infinity)
        case negativeInfinitySign: return PostgresNumeric(special: .negativeInfinity)
        case positive, negative: break
        default: throw .malformed("invalid numeric sign")
        }
        var value = PostgresNumeric()
        value.isNegative = sign == negative
        value.scale = Int(scale)
        value.digits.reserveCapacity(Int(count) * 4)
        for _ in 0..<count {
            guard let group = reader.read(Int16.self), (0..<10_000).contains(group) else {
                throw .malformed("invalid numeric digit")
            }
            for divisor in [1000, 100, 10, 1] as [Int16] {
                let digit = UInt8(group / divisor % 10)
                if !(value.digits.isEmpty && digit == 0) { value.digits.append(digit) }
            }
        }
        value.exponent = (Int(weight) - Int(count) + 1) * 4
        return value
    }

    /// Reads `numeric`'s text format: `-123.4500`, `NaN`, `Infinity`, `-Infinity`.
    static func decodeText(_ text: UnsafeRawBufferPointer) throws(PostgresDecodingError) -> PostgresNumeric {
        if text.equalsASCII("NaN") { return PostgresNumeric(special: .nan) }
        if text.equalsASCII("Infinity") { return PostgresNumeric(special: .infinity) }
        if text.equalsASCII("-Infinity") { return PostgresNumeric(special: .negativeInfinity) }
        var value = PostgresNumeric()
        var seenPoint = false
        var seenDigit = false
        for (index, byte) in text.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where index == 0: value.isNegative = true
            case UInt8(ascii: "+") where index == 0: break
            case UInt8(ascii: ".") where !seenPoint: seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                seenDigit = true
                if !(value.digits.isEmpty && byte == UInt8(ascii: "0")) { value.digits.append(byte - UInt8(ascii: "0")) }
                if seenPoint { value.scale += 1 }
            default: throw .malformed("not a valid numeric")
            }
        }
        guard seenDigit else { throw .malformed("not a valid numeric") }
        value.exponent = -value.scale
        return value
    }

    /// The value as a `Decimal`, exactly, or an error when `Decimal` cannot hold it.
    func decimal() throws(PostgresDecodingError) -> Decimal {
        if let special {
            throw PostgresDecodingError(.unrepresentable, reason: "numeric \(special) has no Decimal")
        }
        var significant = digits[...]
        var exponent = self.exponent
        while let last = significant.last, last == 0 {
            significant.removeLast()
            exponent += 1
        }
        guard !significant.isEmpty else { return Decimal(0) }
        guard significant.count <= 38 else {
            throw PostgresDecodingError(
                .unrepresentable, reason: "\(significant.count) significant digits exceed Decimal's 38"
            )
        }
        guard (-128...127).contains(exponent) else {
            throw PostgresDecodingError(.unrepresentable, reason: "the exponent exceeds Decimal's range")
        }
        // At most 38 digits: the high part has at most 19, the low part 19, each fitting UInt64 exactly.
        let lowCount = min(significant.count, 19)
        let high = significant.dropLast(lowCount).reduce(UInt64(0)) { $0 * 10 + UInt64($1) }
        let low = significant.suffix(lowCount).reduce(UInt64(0)) { $0 * 10 + UInt64($1) }
        var magnitude = Decimal(low)
        if high != 0 {
            magnitude += Decimal(sign: .plus, exponent: lowCount, significand: Decimal(high))
        }
        return Decimal(sign: isNegative ? .minus : .plus, exponent: exponent, significand: magnitude)
    }
}
