import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback listener that accepts one connection, answers libpq's `SSLRequest` with `S` (TLS accepted), and then
/// says nothing: libpq goes on to set TLS up, which is where it reads `sslrootcert`.
final class SSLAcceptingListener: Sendable {
    private let listener: SilentListener
    private let accepted = Mutex<Int32?>(nil)
    var port: Int { listener.port }

    init() throws {
        listener = try SilentListener()
        let thread = Thread { [self] in answerOne() }
        thread.name = "SSLAcceptingListener"
        thread.start()
    }

    private func answerOne() {
        let connection = accept(listener.descriptor, nil, nil)
        guard connection >= 0 else { return }
        accepted.withLock { $0 = connection }
        var request = [UInt8](repeating: 0, count: 8)
        guard read(connection, &request, 8) == 8 else { return }
        _ = write(connection, "S", 1)
    }

    func close() {
        // shutdown wakes a thread still blocked in accept; close alone does not.
        _ = shutdown(listener.descriptor, Int32(SHUT_RDWR))
        listener.close()
        if let connection = accepted.withLock({ $0 }) {
            #if canImport(Glibc)
            _ = Glibc.close(connection)
            #else
            _ = Darwin.close(connection)
            #endif
        }
    }
}

/// A named pipe that blocks whoever opens it for reading, until released: it makes libpq block inside
/// `PQconnectPoll` (it opens `sslrootcert` while setting TLS up) exactly as a hung DNS lookup does (libpq calls
/// `getaddrinfo` there), but deterministically and without depending on the machine's resolver.
final class BlockingFile: Sendable {
    let path: String
    private let isReleased = Mutex(false)

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("blocking-\(UInt64.random(in: 0...UInt64.max)).pem").path
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.EEXIST) }
    }

    /// Releases every reader: one blocked in `open` gets the pipe and then end-of-file, a later one finds no file.
    func release() {
        guard isReleased.withLock({ (released: inout Bool) -> Bool in
            defer { released = true }
            return !released
        }) else { return }
        // Opening read-write never blocks, and counts as a writer: readers blocked in open return. Closing it once
        // the name is gone leaves them at end-of-file.
        let writer = open(path, O_RDWR | O_NONBLOCK)
        unlink(path)
        if writer >= 0 {
            #if canImport(Glibc)
            _ = Glibc.close(writer)
            #else
            _ = Darwin.close(writer)
            #endif
        }
    }

    /// Releases the readers after `delay` at the latest, so that a test waiting for them cannot hang.
    func release(after delay: Duration) {
        let thread = Thread { [self] in
            Thread.sleep(forTimeInterval: Double(delay.components.seconds)
                + Double(delay.components.attoseconds) / 1e18)
            release()
        }
        thread.start()
    }
}
