import Foundation

/// Runs the project's cluster script (`scripts/pg-cluster.sh`) to kill or promote a server.
struct ClusterScript: Sendable {
    let path: String

    struct Failed: Error, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var description: String { "\(arguments.joined(separator: " ")) exited with status \(status)" }
    }

    /// Runs the script with `arguments` and waits for it on a thread of its own (it waits for the server).
    func run(_ arguments: String...) async throws {
        let command = [path] + arguments
        let status = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Self.spawnAndWait(command)) }.start()
        }
        guard status == 0 else { throw Failed(arguments: arguments, status: status) }
    }

    private static func spawnAndWait(_ command: [String]) -> Int32 {
        var pid = pid_t()
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        guard posix_spawn(&pid, command[0], nil, nil, arguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }
}
