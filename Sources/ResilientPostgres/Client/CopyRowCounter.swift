/// Counts the data rows in COPY data as it passes, chunk by chunk, in the format its statement names.
///
/// - Text: a row ends at a newline that a backslash does not escape (the server writes a newline in a value as
///   `\n`, and reads a backslash followed by a newline as data).
/// - CSV: a row ends at a newline outside quotes; the statement's `QUOTE` and `ESCAPE` characters are honoured
///   (a value with a line break in it is one row).
/// - Binary: the tuples between the header and the trailer; a chunk must hold whole tuples (as the chunks of
///   COPY TO STDOUT do), the first one starting with the header.
///
/// In text and CSV, a last line without a newline is a row once ``finish()`` says the data ended, and neither the
/// end marker `\.` on a line of its own nor the header line of a statement with `HEADER` is a row.
package struct CopyRowCounter: Sendable {
    enum Format: Sendable, Equatable {
        case text
        case csv(quote: UInt8, escape: UInt8)
        case binary
    }

    let format: Format
    /// Text and CSV with `HEADER`: the first line, a header, is still to come; it is not a row.
    private var headerToSkip: Bool
    /// The rows counted so far.
    package private(set) var rows = 0
    /// Text and CSV: inside a quoted CSV value, after an escaping character, and the bytes of the current line
    /// (how many, and whether they are so far the end marker).
    private var inQuotes = false
    private var escaped = false
    private var lineLength = 0
    private var lineIsEndMarker = false
    /// Binary: whether the header was read.
    private var headerRead = false

    /// A counter for the data of `statement`, a `COPY ... FROM STDIN` or `COPY ... TO STDOUT`.
    package init(statement: String) {
        let options = CopyOptions(statement: statement)
        format = options.format
        headerToSkip = options.header && options.format != .binary
    }

    /// Counts the rows `chunk` ends.
    package mutating func count(_ chunk: some Collection<UInt8>) {
        switch format {
        case .text: countLines(chunk, quote: nil, escape: UInt8(ascii: "\\"))
        case .csv(let quote, let escape): countLines(chunk, quote: quote, escape: escape)
        case .binary: countTuples(Array(chunk))
        }
    }

    /// Counts a last line that no newline ended, at the end of the data.
    package mutating func finish() {
        guard format != .binary, lineLength > 0, !(lineIsEndMarker && lineLength == 2) else { return }
        if headerToSkip { headerToSkip = false } else { rows += 1 }
        lineLength = 0
    }

    private mutating func countLines(_ chunk: some Collection<UInt8>, quote: UInt8?, escape: UInt8) {
        let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        for byte in chunk {
            if byte == newline, !inQuotes, !(escaped && quote == nil) {
                // `\.` (with or without a carriage return) on a line of its own ends the data, not a row.
                let isEndMarker = lineIsEndMarker && (lineLength == 2 || lineLength == 3)
                if headerToSkip {
                    headerToSkip = false
                } else if !isEndMarker {
                    rows += 1
                }
                lineLength = 0
                escaped = false
                continue
            }
            switch lineLength {
            case 0: lineIsEndMarker = byte == UInt8(ascii: "\\")
            case 1: lineIsEndMarker = lineIsEndMarker && byte == UInt8(ascii: ".")
            case 2: lineIsEndMarker = lineIsEndMarker && byte == carriageReturn
            default: lineIsEndMarker = false
            }
            lineLength += 1
            if let quote {
                // CSV: the escape character counts only inside quotes, before a quote or itself.
                if escaped {
                    escaped = false
                } else if inQuotes, escape != quote, byte == escape {
                    escaped = true
                } else if byte == quote {
                    inQuotes.toggle()
                }
            } else {
                escaped = !escaped && byte == escape
            }
        }
    }

    static let binarySignature: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]

    private mutating func countTuples(_ data: [UInt8]) {
        var offset = 0
        if !headerRead {
            // The signature, the flags, then the header extension, whose length comes first.
            guard data.starts(with: Self.binarySignature), let length = Self.integer(data, at: 15, size: 4) else {
                return
            }
            headerRead = true
            offset = 19 + length
        }
        rows += Self.tuples(data, from: offset)
    }

    /// The whole tuples of binary COPY data from `offset`, up to its trailer or its end.
    private static func tuples(_ data: [UInt8], from start: Int) -> Int {
        var offset = start
        var tuples = 0
        while let fields = integer(data, at: offset, size: 2), fields >= 0 {
            offset += 2
            for _ in 0..<fields {
                guard let length = integer(data, at: offset, size: 4) else { return tuples }
                offset += 4 + max(length, 0)
            }
            guard offset <= data.count else { return tuples }
            tuples += 1
        }
        return tuples
    }

    /// The big-endian signed integer of `size` (2 or 4) bytes at `offset`, or nil past the end.
    private static func integer(_ data: [UInt8], at offset: Int, size: Int) -> Int? {
        guard offset >= 0, offset + size <= data.count else { return nil }
        var value: UInt32 = 0
        for byte in data[offset..<offset + size] { value = value << 8 | UInt32(byte) }
        return size == 2 ? Int(Int16(truncatingIfNeeded: value)) : Int(Int32(bitPattern: value))
    }
}
