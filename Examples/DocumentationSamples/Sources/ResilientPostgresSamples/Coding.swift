import ResilientPostgres

/// The samples of the doc comments of `PostgresQuery`, `PostgresRows`, `PostgresRow` and `PostgresJSON`.
package enum CodingReference {
    /// A user, decoded from a row whose columns are its properties.
    package struct User: Decodable, Sendable {
        package var id: Int
        package var name: String
    }

    /// Something that happened, stored as JSON.
    package struct Event: Codable, Sendable, Hashable {
        package var kind: String
        package var amount: Int

        package init(kind: String, amount: Int) {
            self.kind = kind
            self.amount = amount
        }
    }

    /// The statement that reads the user with an id and a name.
    package static func userQuery(id: Int, name: String) -> PostgresQuery {
        let query: PostgresQuery = "SELECT * FROM users WHERE id = \(id) AND name = \(name)"
        // query.sql == "SELECT * FROM users WHERE id = $1 AND name = $2"
        return query
    }

    /// The rows of `SELECT id, name FROM users`, decoded as tuples and as users.
    package static func decodeUsers(_ rows: PostgresRows) throws -> (pairs: [(Int, String)], users: [User]) {
        let pairs = try rows.decode((Int, String).self)  // [(Int, String)]
        let users = try rows.decode(User.self)            // [User], for a Decodable User
        return (pairs, users)
    }

    /// Prints the rows of `SELECT id, name, email FROM users`, and returns their emails.
    package static func printUsers(_ rows: PostgresRows) throws -> [String?] {
        for row in rows {
            let (id, name, email) = try row.decode((Int, String, String?).self)  // every column, in order
            print(id, name, email ?? "no email")
        }
        let emails = try rows.map { try $0.decode(String?.self, column: "email") }  // one column, by name
        return emails
    }

    /// Stores an event as JSON, and reads every event back.
    package static func storeEvent(_ event: Event, client: PostgresClient) async throws -> [Event] {
        try await client.execute("INSERT INTO events (payload) VALUES (\(PostgresJSON(event)))")
        let rows = try await client.query("SELECT payload FROM events", options: .readOnly)
        let events = try rows.map { row in try row.decode(PostgresJSON<Event>.self, column: "payload").value }
        return events
    }
}
