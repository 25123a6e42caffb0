extension PostgresDataType: CustomStringConvertible {
    /// The type's name (`int4`, `text[]`) for well-known built-in types, else nil.
    public var name: String? {
        Self.knownTypes[self]?.name
    }

    /// For a well-known array type, the type of its elements (`int4` for `int4[]`), else nil.
    public var arrayElementType: PostgresDataType? {
        Self.knownTypes[self]?.element
    }

    /// The type's name, or `oid 16385` for a type this library does not know by name.
    public var description: String {
        name ?? "oid \(rawValue)"
    }

    private static let knownTypes: [PostgresDataType: (name: String, element: PostgresDataType?)] = [
        .unspecified: ("unspecified", nil),
        .bool: ("bool", nil), .bytea: ("bytea", nil), .char: ("\"char\"", nil), .name: ("name", nil),
        .int8: ("int8", nil), .int2: ("int2", nil), .int4: ("int4", nil), .text: ("text", nil), .oid: ("oid", nil),
        .json: ("json", nil), .xml: ("xml", nil), .float4: ("float4", nil), .float8: ("float8", nil),
        .unknown: ("unknown", nil), .money: ("money", nil), .bpchar: ("bpchar", nil), .varchar: ("varchar", nil),
        .date: ("date", nil), .time: ("time", nil), .timestamp: ("timestamp", nil),
        .timestamptz: ("timestamptz", nil), .interval: ("interval", nil), .numeric: ("numeric", nil),
        .uuid: ("uuid", nil), .jsonb: ("jsonb", nil),
        .boolArray: ("bool[]", .bool), .byteaArray: ("bytea[]", .bytea), .charArray: ("\"char\"[]", .char),
        .nameArray: ("name[]", .name), .int2Array: ("int2[]", .int2), .int4Array: ("int4[]", .int4),
        .textArray: ("text[]", .text), .bpcharArray: ("bpchar[]", .bpchar), .varcharArray: ("varchar[]", .varchar),
        .int8Array: ("int8[]", .int8), .float4Array: ("float4[]", .float4), .float8Array: ("float8[]", .float8),
        .oidArray: ("oid[]", .oid), .timestampArray: ("timestamp[]", .timestamp), .dateArray: ("date[]", .date),
        .timestamptzArray: ("timestamptz[]", .timestamptz), .numericArray: ("numeric[]", .numeric),
        .uuidArray: ("uuid[]", .uuid), .jsonArray: ("json[]", .json), .jsonbArray: ("jsonb[]", .jsonb),
    ]
}
