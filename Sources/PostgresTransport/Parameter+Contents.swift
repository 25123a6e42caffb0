extension Parameter {
    /// The format the value is sent in, or nil for SQL NULL: for test doubles that read what a statement bound.
    package var format: ValueFormat? {
        switch value {
        case .null: nil
        case .text: .text
        case .binary, .inlineBinary: .binary
        }
    }

    /// The value's bytes as they would be sent (UTF-8 for text, the wire format for binary), or nil for SQL NULL.
    package var bytes: [UInt8]? {
        switch value {
        case .null: nil
        case .text(let text): Array(text.utf8)
        case .binary(let bytes): bytes
        case .inlineBinary(let storage, let count): withUnsafeBytes(of: storage) { Array($0.prefix(Int(count))) }
        }
    }
}
