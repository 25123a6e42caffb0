import Foundation

/// Runs the project's cluster script (`scripts/pg-cluster.sh`) to kill or promote a server.
struct ClusterScript: Sendable {
    let path: String

    struct Failed: Error, CustomStringConvertible {
        var arguments: [String]
        /// The exit status, or the signal that killed the script.
        var status: Int32
        var killed: Bool
        var description: String {
            "\(arguments.joined(separator: " ")) \(killed ? "was killed by signal" : "exited with status") \(status)"
        }
    }

    /// Runs the script with `arguments` and waits for it to end (it waits for the server).
    func run(_ arguments: String...) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let (reason, status) = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: ($0.terminationReason, $0.terminationStatus)) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        guard reason == .exit, status == 0 else {
            throw Failed(arguments: arguments, status: status, killed: reason == .uncaughtSignal)
        }
    }
}
