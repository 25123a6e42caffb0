import InMemoryLogging

extension InMemoryLogHandler {
    /// The classes (`postgres.class`) of the failures the client retried, in order.
    var retriedClasses: [String] {
        entries.filter { $0.message == "retrying" }.compactMap { $0.fields["postgres.class"] }
    }

    /// Waits until the client has retried at least once (about 10 s at most); false when it never did.
    func waitForRetry() async throws -> Bool {
        for _ in 0..<200 {
            if !retriedClasses.isEmpty { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
