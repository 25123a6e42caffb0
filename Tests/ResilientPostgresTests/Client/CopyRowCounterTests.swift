import ResilientPostgres
import Testing

@Suite("COPY row counting")
struct CopyRowCounterTests {
    /// The rows of `chunks` for `statement`, with the end of the data when `finished`.
    static func rows(_ statement: String, _ chunks: [String], finished: Bool = false) -> Int {
        var counter = CopyRowCounter(statement: statement)
        for chunk in chunks { counter.count(Array(chunk.utf8)) }
        if finished { counter.finish() }
        return counter.rows
    }

    @Test func textRowsEndAtNewlinesABackslashDoesNotEscape() {
        let statement = "COPY t TO STDOUT"
        #expect(Self.rows(statement, ["1\ta\\nb\n2\tc", "\n"]) == 2)
        // A backslash before a newline makes the newline data, whatever chunk it falls in.
        #expect(Self.rows(statement, ["1\ta\\", "\nb\n"]) == 1)
        // An escaped backslash escapes nothing after it.
        #expect(Self.rows(statement, ["1\ta\\\\\n2\tb\n"]) == 2)
    }

    @Test func csvRowsEndAtNewlinesOutsideQuotes() {
        let statement = "COPY t FROM STDIN (FORMAT csv)"
        #expect(Self.rows(statement, ["1,\"two\n", "lines\"\n2,\"say \"\"hi\"\"\"\n"]) == 2)
        #expect(Self.rows(statement, ["1,a\r\n2,b\r\n"]) == 2)
        // The older keyword, and a table named like an option, which is not read as one.
        #expect(Self.rows("COPY csv_binary FROM STDIN WITH CSV", ["1,\"a\nb\"\n"]) == 1)
    }

    @Test func csvHonoursItsQuoteAndEscapeCharacters() {
        #expect(Self.rows("COPY t TO STDOUT (FORMAT csv, QUOTE '|')", ["1,|a\nb|\n2,\"c\n"]) == 2)
        // With a backslash as the escape, an escaped quote does not end the value.
        #expect(Self.rows("COPY t TO STDOUT (FORMAT csv, ESCAPE '\\')", ["1,\"a\\\"\nb\"\n"]) == 1)
    }

    @Test func headerAndLiteralForms() {
        #expect(Self.rows("COPY t TO STDOUT (FORMAT csv, HEADER)", ["id,name\n1,a\n"]) == 1)
        #expect(Self.rows("COPY t TO STDOUT (HEADER)", ["id\tname\n1\ta\n"]) == 1)
        #expect(Self.rows("COPY t TO STDOUT (FORMAT csv, ESCAPE E'\\\\')", ["1,\"a\\\"\nb\"\n2,c\n"]) == 2)
        #expect(Self.rows("COPY t TO STDOUT WITH CSV QUOTE AS '|'", ["1,|a\nb|\n2,c\n"]) == 2)
    }

    @Test func headerOffAndAHeaderAloneCountNoExtraRow() {
        #expect(Self.rows("COPY t TO STDOUT (FORMAT csv, HEADER false)", ["1,a\n2,b\n"]) == 2)
        #expect(Self.rows("COPY t FROM STDIN (FORMAT csv, HEADER match)", ["id,name"], finished: true) == 0)
        #expect(Self.rows("COPY t TO STDOUT WITH CSV HEADER", ["id,name\n1,a\n"]) == 1)
    }

    @Test func theFormatComesOnlyFromItsOptionOrKeywordNeverFromALiteralOrTheWhereClause() {
        // Text, so the quote is data and each line a row.
        #expect(Self.rows("COPY t FROM STDIN (NULL 'csv')", ["1\t\"a\n2\tb\n"]) == 2)
        #expect(Self.rows("COPY t FROM STDIN WHERE kind = 'binary'", ["1\ta\n2\tb\n"]) == 2)
        #expect(Self.rows("COPY t FROM STDIN (FORMAT text) WHERE kind = 'csv'", ["1\t\"a\n2\tb\n"]) == 2)
        #expect(Self.rows("COPY t FROM STDIN (FORMAT 'csv')", ["1,\"a\nb\"\n"]) == 1)
    }

    @Test func aLastLineWithoutANewlineCountsAtTheEndButNotTheEndMarker() {
        #expect(Self.rows("COPY t FROM STDIN", ["1\n2"]) == 1)
        #expect(Self.rows("COPY t FROM STDIN", ["1\n2"], finished: true) == 2)
        #expect(Self.rows("COPY t FROM STDIN", ["1\n\\.\n"], finished: true) == 1)
        #expect(Self.rows("COPY t FROM STDIN (FORMAT csv)", ["1\n\\.\r\n"], finished: true) == 1)
    }

    @Test func binaryCountsTuplesAfterTheHeaderUpToTheTrailer() {
        let header: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        // Two fields: an int4, and a NULL.
        let tuple: [UInt8] = [0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF]
        var counter = CopyRowCounter(statement: "COPY t TO STDOUT (FORMAT binary)")
        counter.count(header + tuple)
        counter.count(tuple + tuple)
        counter.count([0xFF, 0xFF])
        counter.finish()
        #expect(counter.rows == 3)
    }
}
