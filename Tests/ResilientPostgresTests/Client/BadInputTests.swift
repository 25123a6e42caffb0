import Foundation
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// Every row of the DocC article `BadInput.md`: a bad input, and the exact error a caller sees for it. The
/// descriptions are compared whole, with only what changes from run to run (time spent, the server's port) masked.
/// Serialized, so that it holds at most one of the shared server's connection slots at a time.
@Suite("Bad input and the errors it gets", .capturingLogs, .serialized)
struct BadInputTests {
    // MARK: - Connection strings and URLs, refused when the configuration is made

    @Test func invalidURL() {
        expectConnectionStringError(
            "postgresql://app@[::1",
            message: #"end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://app@[::1""#
        )
    }

    @Test func invalidURLWithAPasswordHasLibpqsQuoteOfItMasked() {
        expectConnectionStringError(
            "postgresql://app:s3cret@[::1",
            message: #"end of string reached when looking for matching "]" in IPv6 host address in URI: "…""#
        )
        expectConnectionStringError(
            "postgresql://app:s3%zzcret@db/app", message: #"invalid percent-encoded token: "…""#
        )
        expectConnectionStringError(
            "host=db password=two words", message: #"missing "=" after "…" in connection info string"#
        )
    }

    @Test func unknownKeyInAConnectionStringAndInAURL() {
        expectConnectionStringError("host=db hots=x", message: #"invalid connection option "hots""#)
        expectConnectionStringError("postgresql://db/app?hots=x", message: #"invalid URI query parameter: "hots""#)
    }

    @Test func malformedConnectionString() {
        expectConnectionStringError("host='db", message: "unterminated quoted string in connection info string")
        expectConnectionStringError("host=db dbname", message: #"missing "=" after "dbname" in connection info string"#)
    }

    @Test func nulByteInAConnectionString() {
        expectConnectionStringError("host=db\u{0} password=x", message: "the connection string contains a NUL byte")
    }

    @Test func unescapedAtInAURLPasswordIsRefusedWithoutShowingIt() throws {
        let message = #"a host name cannot contain "@": in a URL, write an "@" of the user name or password as %40"#
        expectConnectionStringError("postgresql://app:pa@ssw0rd@db.example.com/app", message: message)
        expectConnectionStringError("host=ssw0rd@db.example.com", message: message)
        // Written %40, it is the password's.
        #expect(try ConnectionParameters("postgresql://app:pa%40ssw0rd@db.example.com/app")["password"] == "pa@ssw0rd")
    }

    // MARK: - Option values libpq checks when connecting

    @Test(arguments: [
        ("port=abc", #"invalid integer value "abc" for connection option "port""#, "host: 127.0.0.1"),
        ("port=70000", #"invalid port number: "70000""#, "host: 127.0.0.1, port: …"),
        ("sslmode=bogus", #"invalid sslmode value: "bogus""#, "host: 127.0.0.1, port: …"),
        ("host=a,b port=1,2,3", "could not match 3 port numbers to 2 hosts", "host: a, port: …"),
    ])
    func optionValueLibpqRefusesWhenItConnects(options: String, message: String, endpoint: String) async throws {
        // A refused integer's value is masked in the description: it can be a piece of a password misread as the port.
        let shown = message.replacingOccurrences(of: #"integer value "abc""#, with: #"integer value "…""#)
        let client = PostgresClient(configuration: try .init("host=127.0.0.1 user=nobody dbname=nowhere " + options))
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        #expect(error?.errorClass == .permanent)
        #expect(error?.reason == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.code == .connectFailed)
        #expect(error?.lastFailure?.sqlState == nil)
        #expect(error?.lastFailure?.message == message)
        #expect(error.map(maskedDescription) == expectedDescription(.permanent, .permanent, last: """
            TransportError(connect failed, \(endpoint), phase: connecting, connection unusable, \
            message: \(String(reflecting: shown)))
            """))
        await client.shutdown()
    }

    /// An empty host list means the default Unix-domain socket, where no server listens.
    @Test(.enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
    func emptyHostListMeansTheDefaultUnixDomainSocket() async throws {
        let port = ClientTestServer.port
        for connectionString in ["host=, port=\(port) user=postgres", "postgresql://,/postgres?port=\(port)"] {
            let client = PostgresClient(configuration: try .init(connectionString))
            let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
            #expect(error?.errorClass == .permanent)
            #expect(error?.attempts == 1)
            #expect(error?.lastFailure?.code == .connectFailed)
            #expect(error?.lastFailure?.message == "No such file or directory")
            #expect(error.map(maskedDescription) == expectedDescription(.permanent, .permanent, last: """
                TransportError(connect failed, host: /var/run/postgresql, port: …, phase: connecting, \
                connection unusable, message: "No such file or directory", \
                hint: "Is the server running locally and accepting connections on that socket?")
                """))
            await client.shutdown()
        }
    }

    // MARK: - Hosts, credentials and TLS, refused when connecting

    @Test(.enabled(if: saysNameNotFound("no-such-host.invalid"), nameNotFoundSkipReason))
    func mistypedHostFailsAtOnceAndSaysWhichNameDoesNotExist() async throws {
        let client = PostgresClient(configuration: try .init("host=no-such-host.invalid user=app dbname=app"))
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        #expect(error?.errorClass == .hostNotFound)
        #expect(error?.reason == .permanent)
        #expect(error?.attempts == 1)
        #expect(error.map(maskedDescription) == expectedDescription(.hostNotFound, .permanent, last: #"""
            TransportError(connect failed, host: no-such-host.invalid, port: …, phase: connecting, \#
            connection unusable, \#
            message: "could not translate host name \"no-such-host.invalid\" to address: Name or service not known")
            """#))
        await client.shutdown()
    }

    @Test(.serialized,
          .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason), arguments: [
        ("user=app password=Wr0ng-Passw0rd", "28P01", #"password authentication failed for user "app""#),
        ("user=rejectme", "28000",
         #"pg_hba.conf rejects connection for host "127.0.0.1", user "rejectme", database "postgres", no encryption"#),
        ("user=nobody", "28000", #"role "nobody" does not exist"#),
        ("user=postgres dbname=nowhere", "3D000", #"database "nowhere" does not exist"#),
        ("user=postgres sslmode=require", nil, "server does not support SSL, but SSL was required"),
    ] as [(String, SQLState?, String)])
    func connectTheServerOrLibpqRefusesForGoodSaysWhy(
        options: String, sqlState: SQLState?, message: String
    ) async throws {
        let port = ClientTestServer.port
        let client = PostgresClient(configuration: try .init("host=127.0.0.1 port=\(port) dbname=postgres " + options))
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.sqlState == sqlState)
        #expect(error?.lastFailure?.message == message)
        let server = sqlState.map { ", sqlState: \($0), severity: FATAL" } ?? ""
        #expect(error.map(maskedDescription) == expectedDescription(.permanent, .permanent, last: """
            TransportError(connect failed\(server), host: 127.0.0.1, port: …, phase: connecting, connection unusable, \
            message: \(String(reflecting: message)))
            """))
        await client.shutdown()
    }

    // MARK: - Parameters, refused before anything is sent

    @Test(.enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
    func nulByteInATextParameter() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT \("a\u{0}b")") }
        expectInvalidParameter(error, message: "text parameter $1 contains a NUL byte, which PostgreSQL text cannot hold")
        await client.shutdown()
    }

    @Test(.enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
    func moreThan65535Parameters() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let values = [any PostgresEncodable](repeating: 1, count: 65_536)
        let query = try PostgresQuery(unsafeSQL: "SELECT 1", binding: values)
        let error = await #expect(throws: PostgresError.self) { try await client.execute(query) }
        expectInvalidParameter(error, message: "more than 65535 parameters")
        await client.shutdown()
    }

    @Test func valueWhoseEncodingFailsLikeANonFiniteDoubleInsidePostgresJSON() {
        #expect(throws: EncodingError.self) { _ = try PostgresQuery("SELECT \(PostgresJSON(Double.nan))") }
    }

    // MARK: - Values that do not decode as asked

    @Test(.enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
    func invalidUTF8InATextColumnReadAsString() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration { $0.connection["client_encoding"] = "LATIN1" })
        // chr(233) is é on the server; the session sends it as the single LATIN1 byte 0xE9.
        let rows = try await client.query("SELECT 'caf' || chr(233) AS t", options: .readOnly)
        expectDecodingError(
            .invalidUTF8, #"cannot decode column 0 "t" of type text (binary) as Swift.String: invalidUTF8: the text is not valid UTF-8"#
        ) { _ = try rows[0].decode(String.self, column: 0) }
        await client.shutdown()
    }

    @Test(.enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
    func decodingErrorsFromARealRow() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let rows = try await client.query("""
            SELECT 70000::int4 AS n, NULL::int4 AS missing, 'x'::text AS word, 'infinity'::timestamptz AS forever,
                   'NaN'::numeric AS nan, '{{1,2},{3,4}}'::int4[] AS grid, '{1,NULL}'::int4[] AS holes,
                   '5874897-12-31'::date AS far
            """, options: .readOnly)
        let row = rows[0]
        // Foundation's types live in FoundationEssentials on Linux.
        let date = String(reflecting: Date.self)
        let decimal = String(reflecting: Decimal.self)
        expectDecodingError(.outOfRange, #"cannot decode column 0 "n" of type int4 (binary) as Swift.Int16: outOfRange: the value does not fit Int16"#) {
            _ = try row.decode(Int16.self, column: 0)
        }
        expectDecodingError(.unexpectedNull, #"cannot decode column 1 "missing" of type int4 (binary) as Swift.Int: unexpectedNull: the value is NULL; decode an Optional to accept NULL"#) {
            _ = try row.decode(Int.self, column: "missing")
        }
        expectDecodingError(.typeMismatch, #"cannot decode column 2 "word" of type text (binary) as Swift.Int: typeMismatch: binary text is not readable here; expected int2, int4 or int8"#) {
            _ = try row.decode(Int.self, column: "word")
        }
        expectDecodingError(.unrepresentable, #"cannot decode column 3 "forever" of type timestamptz (binary) as \#(date): unrepresentable: timestamptz infinity or -infinity has no Date"#) {
            _ = try row.decode(Date.self, column: "forever")
        }
        expectDecodingError(.unrepresentable, #"cannot decode column 4 "nan" of type numeric (binary) as \#(decimal): unrepresentable: numeric nan has no Decimal"#) {
            _ = try row.decode(Decimal.self, column: "nan")
        }
        expectDecodingError(.unsupportedShape, #"cannot decode column 5 "grid" of type int4[] (binary) as Swift.Array<Swift.Int>: unsupportedShape: a 2-dimensional array; only 1 is read"#) {
            _ = try row.decode([Int].self, column: "grid")
        }
        expectDecodingError(.unexpectedNull, #"cannot decode column 6 "holes" of type int4[] (binary) as Swift.Array<Swift.Int>: unexpectedNull: element 2 (int4): the value is NULL; decode an Optional to accept NULL"#) {
            _ = try row.decode([Int].self, column: "holes")
        }
        expectDecodingError(.outOfRange, #"cannot decode column 7 "far" of type date (binary) as \#(date): outOfRange: the date is too far from 2000 for int8 microseconds"#) {
            _ = try row.decode(Date.self, column: "far")
        }
        expectDecodingError(.missingColumn, #"cannot decode column "nope" as Swift.Int: missingColumn: the result has no such column (it has 8)"#) {
            _ = try row.decode(Int.self, column: "nope")
        }
        expectDecodingError(.columnCountMismatch, "cannot decode value: columnCountMismatch: decoding 2 values from a row of 8 columns") {
            _ = try row.decode((Int, Int).self)
        }
        await client.shutdown()
    }
}

// MARK: - Helpers

/// The description with what changes between runs masked: the time spent and the server's port.
func maskedDescription(_ error: any Error) -> String {
    var text = String(describing: error)
    for pattern in [#"elapsed: [^,)]+"#, #"port: [0-9]+"#] {
        let replacement = pattern.hasPrefix("elapsed") ? "elapsed: …" : "port: …"
        text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
    }
    return text
}

/// A `PostgresError` description after one failed attempt, masked like ``maskedDescription(_:)``.
func expectedDescription(_ errorClass: ErrorClass, _ reason: PostgresError.Reason, last: String) -> String {
    "PostgresError(\(errorClass.name), \(reason), attempts: 1, elapsed: …, last: \(last)) — \(errorClass.advice)"
}

func expectConnectionStringError(_ text: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for parse in [{ _ = try ConnectionParameters(text) }, { _ = try PostgresClient.Configuration(text) }] as [() throws -> Void] {
        let error = #expect(throws: TransportError.self, sourceLocation: sourceLocation) { try parse() }
        #expect(error?.code == .invalidConnectionString, sourceLocation: sourceLocation)
        #expect(error?.message == message, sourceLocation: sourceLocation)
        #expect(
            error.map(String.init(describing:)) == "TransportError(invalid connection string, phase: connecting, connection unusable)",
            sourceLocation: sourceLocation
        )
    }
}

func expectInvalidParameter(_ error: PostgresError?, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(error?.errorClass == .permanent, sourceLocation: sourceLocation)
    #expect(error?.reason == .permanent, sourceLocation: sourceLocation)
    #expect(error?.mayHaveBeenApplied == false, sourceLocation: sourceLocation)
    #expect(error?.lastFailure?.code == .invalidParameter, sourceLocation: sourceLocation)
    #expect(error?.lastFailure?.phase == .notSent, sourceLocation: sourceLocation)
    #expect(error?.lastFailure?.message == message, sourceLocation: sourceLocation)
    #expect(error.map(maskedDescription) == expectedDescription(
        .permanent, .permanent,
        last: "TransportError(invalid parameter, host: 127.0.0.1, port: …, phase: not sent, connection usable)"
    ), sourceLocation: sourceLocation)
}

func expectDecodingError(
    _ code: PostgresDecodingError.Code, _ description: String,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    let error = #expect(throws: PostgresDecodingError.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == code, sourceLocation: sourceLocation)
    #expect(error.map(String.init(describing:)) == description, sourceLocation: sourceLocation)
}
