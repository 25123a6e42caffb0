import ResilientPostgres
import Testing

// This file imports `ResilientPostgres` alone, as an app does: the `~=` it finds must be the one that matches a
// class, not the standard library's equality.

@Suite("SQLState matching, as an app sees it")
struct SQLStateMatchingTests {
    @Test func aClassMatchesEveryCodeInIt() {
        let uniqueViolation: SQLState = "23505"
        let integrityConstraintViolation: SQLState = "23"
        #expect(integrityConstraintViolation ~= uniqueViolation)
        #expect(!(uniqueViolation ~= integrityConstraintViolation))
        #expect(integrityConstraintViolation ~= Optional(uniqueViolation))
        #expect(!(integrityConstraintViolation ~= Optional<SQLState>.none))
    }

    @Test func aSwitchTriesACodeBeforeItsClass() {
        func name(of state: SQLState?) -> String {
            switch state {
            case "23505": "unique violation"
            case "23": "another integrity constraint violation"
            case .adminShutdown: "admin shutdown"
            default: "other"
            }
        }
        #expect(name(of: "23505") == "unique violation")
        #expect(name(of: "23502") == "another integrity constraint violation")
        #expect(name(of: "57P01") == "admin shutdown")
        #expect(name(of: "57P02") == "other")
        #expect(name(of: nil) == "other")
    }
}
