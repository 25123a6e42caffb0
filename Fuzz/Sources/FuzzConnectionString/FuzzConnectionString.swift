import PostgresTransport
import ResilientPostgres

/// libFuzzer's entry point: parses the input as a libpq connection string or `postgresql://` URL, both as
/// `ConnectionParameters` and as a client `Configuration`, alone and after a known password.
///
/// Any input must either parse or throw `TransportError` with code `invalidConnectionString`, whose description
/// carries none of libpq's message and whose message never quotes the password. A crash, a hang, another error or
/// the password in a message is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnectionString(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    check { _ = try ConnectionParameters(text).description }
    check { _ = try PostgresClient.Configuration(text).description }
    for withPassword in ["password=\(secret) " + text, "postgresql://user:\(secret)@" + text] {
        check {
            let parameters = try ConnectionParameters(withPassword)
            precondition(!parameters.description.contains(secret), "the description shows the password")
        }
    }
    return 0
}

private let secret = "FuzzSecret"

private func check(_ body: () throws -> Void) {
    do {
        try body()
    } catch let error as TransportError {
        precondition(error.code == .invalidConnectionString, "unexpected code: \(error)")
        precondition(!error.message.isEmpty, "an invalid connection string must say why")
        precondition(!error.description.contains(error.message), "the description shows libpq's message: \(error)")
        precondition(!error.message.contains(secret), "the message quotes the password: \(error.message)")
    } catch {
        preconditionFailure("unexpected error type: \(error)")
    }
}
