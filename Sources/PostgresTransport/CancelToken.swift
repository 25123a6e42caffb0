internal import CLibPQ
import Foundation

/// libpq's cancel object for one session (`PQgetCancel`): what is needed to ask the server to cancel whatever that
/// session is running, from any thread, without touching the connection itself.
final class CancelToken: @unchecked Sendable {
    // @unchecked Sendable: the PGcancel is created once and never mutated; libpq documents `PQcancel` as safe to call
    // from any thread with its own PGcancel ("PQcancel can safely be invoked from a signal handler"). It is freed
    // once, when the last reference (the connection's or a cancelling thread's) goes.
    private let raw: OpaquePointer

    init?(connection: OpaquePointer) {
        guard let raw = PQgetCancel(connection) else { return nil }
        self.raw = raw
    }

    deinit {
        PQfreeCancel(raw)
    }

    /// Sends a cancel request and waits for the server to take it. Blocks on the network: call it off Swift's
    /// cooperative threads. Returns libpq's error text when the request could not be sent.
    func send() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let sent = PQcancel(raw, &buffer, Int32(buffer.count))
        return sent == 1 ? nil : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
