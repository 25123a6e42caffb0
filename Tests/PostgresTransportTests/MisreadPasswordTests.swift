import PostgresTransport
import Testing
import TestSupport

/// A password with an unescaped `/` in a URL is read by libpq as the port, and its connect message quotes that
/// value: the description must not show it.
@Suite("A password misread as another option", .capturingLogs)
struct MisreadPasswordTests {
    @Test func valueLibpqRefusesIsNotShown() async throws {
        let parameters = try ConnectionParameters("postgresql://app:s3cr/et@127.0.0.1/db")
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(parameters, timeout: .seconds(2))
        }
        let description = error.map { String(describing: $0) } ?? ""
        #expect(!description.contains("s3cr"), "\(description)")
        // The cause is still named: which option, and that its value was refused.
        #expect(description.contains("port"), "\(description)")
    }
}
