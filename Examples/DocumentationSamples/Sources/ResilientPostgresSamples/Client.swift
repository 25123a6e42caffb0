import ResilientPostgres

/// The samples of the doc comments of `PostgresClient` and `SQLState`.
package enum ClientReference {
    /// Marks jobs done, one statement after another, on the I/O thread of the session they run on.
    package static func markDone(ids: [Int], client: PostgresClient) async throws {
        try await client.withSessionThread {
            for id in ids {
                try await client.execute("UPDATE jobs SET done = true WHERE id = \(id)")
            }
        }
    }

    /// An app's `main` that makes the I/O threads the global executor before it starts its work.
    package enum App {
        static func main() async throws {
            PostgresClient.unsafeTryInstallIOThreadsAsGlobalExecutor()
            try await runApp()
        }

        static func runApp() async throws {}
    }

    /// What to do about a failure with SQLSTATE `state`.
    package static func advice(for state: SQLState) -> String {
        switch state {
        case .adminShutdown: "reconnect: the server ended the session"
        case "53": "wait: the server is out of resources"  // every insufficient-resources code
        default: "see the server's message"
        }
    }
}
