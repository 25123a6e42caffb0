import Foundation

/// Runs one of the project's scripts (`scripts/ha-cluster.sh`, `scripts/pg-cluster.sh`) and waits for it.
public struct Script: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public struct Failed: Error, CustomStringConvertible {
        public var arguments: [String]
        /// The exit status, or the signal that killed the script.
        public var status: Int32
        public var killed: Bool
        public var description: String {
            "\(arguments.joined(separator: " ")) \(killed ? "was killed by signal" : "exited with status") \(status)"
        }
    }

    /// Runs the script with `arguments`; its standard output is dropped, its standard error shown. Cancelling the
    /// task terminates the script.
    public func run(_ arguments: String...) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        // Cancelled, the script is sent SIGTERM, and the wait goes on until it has ended.
        let (reason, status) = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = {
                    continuation.resume(returning: ($0.terminationReason, $0.terminationStatus))
                }
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
        guard reason == .exit, status == 0 else {
            throw Failed(arguments: arguments, status: status, killed: reason == .uncaughtSignal)
        }
    }
}
