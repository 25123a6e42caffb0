/// A PostgreSQL data type, identified by its OID (`pg_type.oid`): `int4` is 23, `text` is 25.
///
/// Well-known built-in types have names here (``name-swift.property``); any other OID (an extension's type, a domain, an enum) is
/// still a valid value, described by its number.
public struct PostgresDataType: Sendable, Hashable, RawRepresentable {
    /// The type's OID.
    public let rawValue: UInt32

    /// The type with this OID.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The type with this OID.
    @inlinable
    public init(_ oid: UInt32) {
        self.rawValue = oid
    }

    /// No type given: the server infers a parameter's type from the statement (OID 0).
    public static let unspecified = PostgresDataType(0)

    /// `bool`.
    public static let bool = PostgresDataType(16)
    /// `bytea`.
    public static let bytea = PostgresDataType(17)
    /// `"char"`, the one-byte internal type.
    public static let char = PostgresDataType(18)
    /// `name`, the 63-byte identifier type of the system catalogs.
    public static let name = PostgresDataType(19)
    /// `int8` (`bigint`).
    public static let int8 = PostgresDataType(20)
    /// `int2` (`smallint`).
    public static let int2 = PostgresDataType(21)
    /// `int4` (`integer`).
    public static let int4 = PostgresDataType(23)
    /// `text`.
    public static let text = PostgresDataType(25)
    /// `oid`.
    public static let oid = PostgresDataType(26)
    /// `json`.
    public static let json = PostgresDataType(114)
    /// `xml`.
    public static let xml = PostgresDataType(142)
    /// `float4` (`real`).
    public static let float4 = PostgresDataType(700)
    /// `float8` (`double precision`).
    public static let float8 = PostgresDataType(701)
    /// `unknown`, the type of an untyped literal such as `SELECT 'a'`.
    public static let unknown = PostgresDataType(705)
    /// `money`.
    public static let money = PostgresDataType(790)
    /// `bpchar` (`char(n)`).
    public static let bpchar = PostgresDataType(1042)
    /// `varchar`.
    public static let varchar = PostgresDataType(1043)
    /// `date`.
    public static let date = PostgresDataType(1082)
    /// `time`.
    public static let time = PostgresDataType(1083)
    /// `timestamp` (without time zone).
    public static let timestamp = PostgresDataType(1114)
    /// `timestamptz` (`timestamp with time zone`).
    public static let timestamptz = PostgresDataType(1184)
    /// `interval`.
    public static let interval = PostgresDataType(1186)
    /// `numeric`.
    public static let numeric = PostgresDataType(1700)
    /// `uuid`.
    public static let uuid = PostgresDataType(2950)
    /// `jsonb`.
    public static let jsonb = PostgresDataType(3802)

    /// `bool[]`.
    public static let boolArray = PostgresDataType(1000)
    /// `bytea[]`.
    public static let byteaArray = PostgresDataType(1001)
    /// `"char"[]`.
    public static let charArray = PostgresDataType(1002)
    /// `name[]`.
    public static let nameArray = PostgresDataType(1003)
    /// `int2[]`.
    public static let int2Array = PostgresDataType(1005)
    /// `int4[]`.
    public static let int4Array = PostgresDataType(1007)
    /// `text[]`.
    public static let textArray = PostgresDataType(1009)
    /// `bpchar[]`.
    public static let bpcharArray = PostgresDataType(1014)
    /// `varchar[]`.
    public static let varcharArray = PostgresDataType(1015)
    /// `int8[]`.
    public static let int8Array = PostgresDataType(1016)
    /// `float4[]`.
    public static let float4Array = PostgresDataType(1021)
    /// `float8[]`.
    public static let float8Array = PostgresDataType(1022)
    /// `oid[]`.
    public static let oidArray = PostgresDataType(1028)
    /// `timestamp[]`.
    public static let timestampArray = PostgresDataType(1115)
    /// `date[]`.
    public static let dateArray = PostgresDataType(1182)
    /// `timestamptz[]`.
    public static let timestamptzArray = PostgresDataType(1185)
    /// `numeric[]`.
    public static let numericArray = PostgresDataType(1231)
    /// `uuid[]`.
    public static let uuidArray = PostgresDataType(2951)
    /// `json[]`.
    public static let jsonArray = PostgresDataType(199)
    /// `jsonb[]`.
    public static let jsonbArray = PostgresDataType(3807)
}
