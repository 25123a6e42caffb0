import Foundation
import ResilientPostgres

/// Where the service's database password comes from when it signs in with short-lived tokens (Microsoft Entra ID,
/// AWS IAM) instead of a fixed password: a shell command that prints one, run for each new session that needs one.
///
/// `DATABASE_TOKEN_COMMAND='az account get-access-token --resource-type oss-rdbms --query accessToken -o tsv'` on
/// Azure; `DATABASE_TOKEN_COMMAND='printenv PGPASSWORD'` runs it with a plain password.
public struct DatabaseToken: Sendable, Hashable {
    /// The command, run with `/bin/sh -c`; what it prints, less its final newline, is the token.
    public var command: String
    /// How long a token is good for after the command printed it.
    public var lifetime: Duration

    /// A token source running `command`, whose tokens are good for `lifetime`.
    public init(command: String, lifetime: Duration = .seconds(300)) {
        self.command = command
        self.lifetime = lifetime
    }

    /// The command exited with a status other than 0.
    public struct CommandFailed: Error, Sendable, CustomStringConvertible {
        /// Its exit status: 127 when the shell did not find it.
        public var status: Int32
        /// What it wrote to its standard error (`az: Please run 'az login'`), for a log the service chooses.
        public var standardError: String

        /// The status only: what the command printed may be a token.
        public var description: String { "the token command exited with status \(status)" }
    }

    /// The client's credential provider: a command the shell cannot find fails operations at once; any other
    /// failure is retried within their budget.
    public var provider: CredentialProvider {
        CredentialProvider {
            do {
                return Credential(password: try await run(), validFor: lifetime)
            } catch let error as CommandFailed where error.status == 127 {
                throw CredentialError.permanent(error)
            }
        }
    }

    /// Runs the command and returns what it printed, ending it if the task is cancelled.
    private func run() async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let data = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
                // Read once the command has ended: a token's few kilobytes (and a short error) fit in the pipes'
                // buffers.
                process.terminationHandler = { _ in
                    continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile())
                }
                do {
                    try process.run()
                    // A cancellation that came before the command started found nothing to stop.
                    if Task.isCancelled { process.terminate() }
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
        guard process.terminationStatus == 0 else {
            let standardError = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw CommandFailed(status: process.terminationStatus, standardError: standardError)
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
