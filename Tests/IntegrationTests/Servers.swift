import Foundation
import PostgresTransport
import ResilientPostgres
import Testing

/// The throwaway servers `make test` starts for integration tests, from the `POSTGRES_*` variables it exports.
enum Servers {
    static let environment = ProcessInfo.processInfo.environment

    /// The `storm` cluster: restarted, shut down and cut off by the disruption tests, and by nothing else.
    static let stormPort = environment["POSTGRES_STORM_PORT"]
    static let hasStorm = stormPort != nil && environment["POSTGRES_CLUSTER_SCRIPT"] != nil
    static let stormSkipReason: Comment =
        "needs the disposable `storm` server that `make test` starts (POSTGRES_STORM_PORT, POSTGRES_CLUSTER_SCRIPT)"

    /// Connection parameters for a cluster on loopback, as its superuser.
    static func parameters(port: String, _ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
        var parameters = ConnectionParameters(options: [
            "host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "postgres",
        ])
        for (keyword, value) in overrides { parameters[keyword] = value }
        return parameters
    }

    /// Runs the cluster script (`scripts/pg-cluster.sh`) with `arguments`, waiting on a thread of its own.
    static func cluster(_ arguments: String...) async throws {
        try await run([environment["POSTGRES_CLUSTER_SCRIPT"]!] + arguments)
    }

    /// Runs a command and waits for it on a thread of its own; throws when it exits non-zero.
    static func run(_ command: [String]) async throws {
        let status = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: spawnAndWait(command)) }.start()
        }
        guard status == 0 else { throw CommandFailed(command: command, status: status) }
    }

    /// Runs a command and waits for it; its exit status, or -1 when it could not be started.
    static func spawnAndWait(_ command: [String]) -> Int32 {
        var pid = pid_t()
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Quiet: a command's own chatter would interleave with the test output.
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        guard posix_spawnp(&pid, command[0], &actions, nil, arguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }

    struct CommandFailed: Error {
        var command: [String]
        var status: Int32
    }
}
