public import Foundation
public import PostgresTransport

/// `timestamptz`, bound in binary with microsecond precision.
///
/// `Date` holds seconds as a `Double`, exact to the microsecond within about 285 years of 2001; further out, values
/// are rounded to the nearest microsecond `Date` can tell apart.
///
/// A `Date` too far from the present for PostgreSQL's `int8` microseconds (beyond about 292,000 years) is sent as
/// `infinity` or `-infinity`.
extension Date: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `timestamptz`.
    public static var postgresDataType: PostgresDataType { .timestamptz }
    /// `timestamptz[]`.
    public static var postgresArrayDataType: PostgresDataType { .timestamptzArray }

    /// Appends microseconds since 2000-01-01 00:00 UTC, rounded to the nearest microsecond.
    public func encode(into buffer: inout [UInt8]) {
        let micros = (timeIntervalSinceReferenceDate * 1_000_000).rounded()
        var sincePostgresEpoch = micros > 0 ? Int64.max : Int64.min  // infinity, when out of range
        if let sinceReference = Int64(exactly: micros) {
            let (sum, overflow) = sinceReference.addingReportingOverflow(PostgresTime.referenceDateMicros)
            if !overflow { sincePostgresEpoch = sum }
        }
        buffer.appendBigEndian(sincePostgresEpoch)
    }

    /// Reads `timestamptz`, `timestamp` (taken as UTC) or `date` (midnight UTC).
    ///
    /// `infinity` and `-infinity` throw ``PostgresDecodingError/Code/unrepresentable``; a value too far from 2000 for
    /// `int8` microseconds (a `date` beyond about 292,000 years) throws ``PostgresDecodingError/Code/outOfRange``.
    /// Text values must use the `ISO` `DateStyle` (the server default).
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        let micros: Int64
        switch (type, format) {
        case (.timestamptz, .binary), (.timestamp, .binary):
            guard let value = bytes.loadBigEndian(Int64.self) else { throw .malformed("a binary \(type) has 8 bytes") }
            guard value != .max, value != .min else { throw PostgresTime.infinite(type) }
            micros = value
        case (.date, .binary):
            guard let days = bytes.loadBigEndian(Int32.self) else { throw .malformed("a binary date has 4 bytes") }
            guard days != .max, days != .min else { throw PostgresTime.infinite(type) }
            micros = try PostgresTime.micros(days: Int64(days), plus: 0, type: type)
        case (.timestamptz, .text), (.timestamp, .text), (.date, .text):
            micros = try PostgresTime.parse(bytes, type: type)
        default:
            throw .typeMismatch(type, format, expected: "timestamptz, timestamp or date")
        }
        // Checked: a binary timestamp can hold any int8, and near its ends the shift to 2001 would overflow.
        let (sinceReference, overflow) = micros.subtractingReportingOverflow(PostgresTime.referenceDateMicros)
        guard !overflow else { throw PostgresTime.outOfRange(type) }
        self = Date(timeIntervalSinceReferenceDate: Double(sinceReference) / 1_000_000)
    }
}

/// PostgreSQL's time arithmetic: microseconds since 2000-01-01 00:00 UTC, computed without calendars or formatters.
enum PostgresTime {
    static let microsPerDay: Int64 = 86_400_000_000
    /// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
    static let postgresEpochDays: Int64 = 10_957
    /// Microseconds from 2000-01-01 (PostgreSQL's epoch) to 2001-01-01 (`Date`'s reference date): 366 days.
    static let referenceDateMicros: Int64 = 366 * microsPerDay

    static func infinite(_ type: PostgresDataType) -> PostgresDecodingError {
        PostgresDecodingError(.unrepresentable, reason: "\(type) infinity or -infinity has no Date")
    }

    static func outOfRange(_ type: PostgresDataType) -> PostgresDecodingError {
        PostgresDecodingError(.outOfRange, reason: "the \(type) is too far from 2000 for int8 microseconds")
    }

    /// `days` since 2000-01-01 plus `micros`, in microseconds, or ``outOfRange(_:)`` when that overflows `Int64`
    /// (dates beyond about 292,000 years from 2000, which PostgreSQL's `date` can hold and `Date` here cannot).
    static func micros(days: Int64, plus micros: Int64, type: PostgresDataType) throws(PostgresDecodingError) -> Int64 {
        let (dayMicros, overflow1) = days.multipliedReportingOverflow(by: microsPerDay)
        let (sum, overflow2) = dayMicros.addingReportingOverflow(micros)
        guard !overflow1, !overflow2 else { throw outOfRange(type) }
        return sum
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 0 is 1 BC).
    static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Parses ISO output: `2024-01-31`, `2024-01-31 12:34:56.789012`, with `+02`, `-03:30` or `+00:53:28`
    /// for `timestamptz`, and ` BC` for years before 1.
    static func parse(_ text: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError) -> Int64 {
        if text.equalsASCII("infinity") || text.equalsASCII("-infinity") { throw infinite(type) }
        var scanner = Scanner(text: text)
        // PostgreSQL writes 4 to 7 digits (its `date` ends in 5874897); more would overflow the day count.
        guard let yearDigits = scanner.digitCount(), (4...7).contains(yearDigits),
            let year = scanner.number(digits: yearDigits), scanner.skip("-"),
            let month = scanner.number(digits: 2), (1...12).contains(month), scanner.skip("-"),
            let day = scanner.number(digits: 2), (1...31).contains(day)
        else { throw .malformed("not an ISO \(type); set DateStyle to ISO") }
        var micros: Int64 = 0
        if type != .date {
            guard scanner.skip(" "), let hour = scanner.number(digits: 2), scanner.skip(":"),
                let minute = scanner.number(digits: 2), scanner.skip(":"), let second = scanner.number(digits: 2)
            else { throw .malformed("not an ISO \(type); set DateStyle to ISO") }
            micros = ((hour * 60 + minute) * 60 + second) * 1_000_000
            if scanner.skip(".") {
                guard let count = scanner.digitCount(), (1...6).contains(count), let fraction = scanner.number(digits: count)
                else { throw .malformed("invalid fractional seconds in \(type)") }
                var scaled = fraction
                for _ in count..<6 { scaled *= 10 }
                micros += scaled
            }
            if type == .timestamptz {
                guard let offset = scanner.utcOffsetSeconds() else { throw .malformed("missing UTC offset in timestamptz") }
                micros -= offset * 1_000_000
            }
        }
        let isBC = scanner.skip(" BC")
        guard scanner.isAtEnd else { throw .malformed("unexpected text after \(type)") }
        let days = daysSince1970(year: isBC ? 1 - year : year, month: month, day: day)
        return try Self.micros(days: days - postgresEpochDays, plus: micros, type: type)
    }

    private struct Scanner {
        let text: UnsafeRawBufferPointer
        var index = 0

        var isAtEnd: Bool { index == text.count }

        mutating func skip(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= text.count,
                UnsafeRawBufferPointer(rebasing: text[index..<(index + count)]).equalsASCII(literal)
            else { return false }
            index += count
            return true
        }

        /// How many decimal digits follow, or nil for none.
        func digitCount() -> Int? {
            var end = index
            while end < text.count, text[end] &- UInt8(ascii: "0") < 10 { end += 1 }
            return end > index ? end - index : nil
        }

        mutating func number(digits count: Int) -> Int64? {
            guard count <= 18, let value = PostgresTextScanner.digits(text, at: index, count: count) else { return nil }
            index += count
            return Int64(value)
        }

        /// `+HH`, `-HH:MM` or `+HH:MM:SS`, in seconds east of UTC.
        mutating func utcOffsetSeconds() -> Int64? {
            let sign: Int64
            if skip("+") { sign = 1 } else if skip("-") { sign = -1 } else { return nil }
            guard let hours = number(digits: 2) else { return nil }
            var seconds = hours * 3600
            if skip(":") {
                guard let minutes = number(digits: 2) else { return nil }
                seconds += minutes * 60
                if skip(":") {
                    guard let extra = number(digits: 2) else { return nil }
                    seconds += extra
                }
            }
            return sign * seconds
        }
    }
}
