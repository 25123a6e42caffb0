import Foundation
import Hummingbird
import HummingbirdTesting
import OrdersAPI
import ResilientPostgres
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A database that refuses every connection: requests are answered with a 503 once the budget is spent. Needs no
/// server.
struct UnreachableDatabaseTests {
    @Test func anUnreachableDatabaseIsUnavailableWithRetryAfter() async throws {
        let port = try RefusingPort()
        defer { port.release() }
        var configuration = PostgresClient.Configuration(connection: ConnectionParameters(options: [
            "host": "127.0.0.1", "port": "\(port.number)", "user": "nobody", "dbname": "nowhere",
        ]))
        configuration.retryPolicy.budget = .seconds(1)
        let client = PostgresClient(configuration: configuration)
        // The router alone: the application would try to create the table before the first request.
        let app = Application(router: buildRouter(repository: OrderRepository(client: client), retryAfter: .seconds(7)))

        let started = ContinuousClock.now
        let (put, get) = try await app.test(.router) { client in
            let put = try await client.execute(
                uri: "/orders/unreachable-1",
                method: .put,
                body: ByteBuffer(string: #"{"customer": "ada", "item": "espresso", "quantity": 2}"#)
            )
            return (put, try await client.execute(uri: "/orders/unreachable-1", method: .get))
        }
        await client.shutdown()

        for response in [put, get] {
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "7")
            #expect(String(buffer: response.body).contains("unavailable"))
        }
        // Retried until the budget ran out (giving up before a wait that would pass it), not at the first refusal;
        // and not for much longer.
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(500))
        #expect(elapsed < .seconds(20))
    }
}

/// A TCP port on 127.0.0.1 that is bound but not listening, so that every connection to it is refused.
struct RefusingPort {
    let descriptor: Int32
    let number: UInt16

    struct SocketFailed: Error {
        let call: String
        let errno: Int32
    }

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw SocketFailed(call: "socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            let failure = SocketFailed(call: "bind", errno: errno)
            _ = close(descriptor)
            throw failure
        }
        self.descriptor = descriptor
        number = UInt16(bigEndian: address.sin_port)
    }

    /// Frees the port.
    func release() {
        _ = close(descriptor)
    }
}
