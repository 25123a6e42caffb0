import PostgresTransport
import Testing
import TestSupport

/// What a `TransportError`'s redacted description shows of the failure's cause, and what it never shows.
@Suite("Error descriptions", .capturingLogs)
struct DescriptionTests {
    @Test func failedConnectShowsLibpqsMessageAndItsOwnAdvice() {
        let refused = TransportError.fromConnectMessage(
            """
            connection to server at "127.0.0.1", port 1 failed: Connection refused
            \tIs the server running on that host and accepting TCP/IP connections?
            """, host: "127.0.0.1", port: 1
        )
        #expect("\(refused)" == """
            TransportError(connect failed, host: 127.0.0.1, port: 1, phase: connecting, connection unusable, \
            message: "Connection refused", \
            hint: "Is the server running on that host and accepting TCP/IP connections?")
            """)
        let tls = TransportError.fromConnectMessage(
            "server does not support SSL, but SSL was required", host: "db", port: 5432
        )
        #expect("\(tls)".hasSuffix(#", message: "server does not support SSL, but SSL was required")"#))
    }

    /// A server's refusal of the session shows its message, never its DETAIL or HINT.
    @Test func serversRefusalOfTheSessionShowsItsMessage() {
        let refused = TransportError.fromConnectMessage(
            """
            connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  28000: no pg_hba.conf entry for \
            host "10.0.0.9", user "app", database "orders", no encryption
            DETAIL:  Connection matched nothing.
            HINT:  Add a line.
            LOCATION:  ClientAuthentication, auth.c:536
            """, host: "db", port: 5432
        )
        let text = "\(refused)"
        #expect(text == #"""
            TransportError(connect failed, sqlState: 28000, severity: FATAL, host: db, port: 5432, phase: connecting, \#
            connection unusable, \#
            message: "no pg_hba.conf entry for host \"10.0.0.9\", user \"app\", database \"orders\", no encryption")
            """#)
        #expect(String(reflecting: refused).contains("Add a line."))
    }

    /// No message that can quote a value: another SQLSTATE while connecting, a statement's error, a parse error.
    @Test func messagesThatCanQuoteAValueAreHidden() {
        // 22023 quotes a value given in `options`.
        let option = TransportError.fromConnectMessage(
            #"connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  22023: invalid value for parameter "search_path": "s3cret""#,
            host: "db", port: 5432
        )
        #expect(!"\(option)".contains("s3cret"))
        #expect("\(option)".contains("sqlState: 22023"))
        let statement = TransportError(
            code: .server, sqlState: "22P02", severity: "ERROR",
            message: #"invalid input syntax for type integer: "s3cret""#, phase: .sent, isConnectionUsable: true
        )
        #expect("\(statement)" == "TransportError(server error, sqlState: 22P02, severity: ERROR, phase: sent, connection usable)")
        let parse = TransportError(
            code: .invalidConnectionString, message: #"invalid connection option "s3cret""#, phase: .connecting,
            isConnectionUsable: false
        )
        #expect("\(parse)" == "TransportError(invalid connection string, phase: connecting, connection unusable)")
        // And the connect message is shown only now: a failed connect names its cause.
        let missing = TransportError.fromConnectMessage(
            #"connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  3D000: database "orders" does not exist"#,
            host: "db", port: 5432
        )
        #expect("\(missing)".hasSuffix(#", message: "database \"orders\" does not exist")"#))
    }
}
