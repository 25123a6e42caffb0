import Foundation
import Logging

/// Runs a command to its end: the cluster script, `nft`. A command killed by a signal has failed, like one that
/// exits non-zero.
///
/// The command's output (standard output and error together) does not reach the test run's: it goes into the test's
/// captured log (see ``Trait/capturingLogs``) when the command succeeds, and into the error when it fails.
public enum ChildProcess {
    /// A command that could not be started, exited non-zero, or was killed.
    public struct Failure: Error, CustomStringConvertible {
        /// How it failed.
        public enum Reason: Sendable, Equatable {
            /// `posix_spawnp` or `waitpid` failed with this `errno`.
            case notRun(errno: Int32)
            /// It exited with this non-zero status.
            case exited(status: Int32)
            /// A signal ended it.
            case killed(signal: Int32)
        }

        public var command: [String]
        public var reason: Reason
        /// What it printed, both streams together.
        public var output: String

        public var description: String {
            let what = switch reason {
            case .notRun(let code): "could not be run: \(String(cString: strerror(code)))"
            case .exited(let status): "exited with status \(status)"
            case .killed(let signal): "was killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            }
            let printed = output.isEmpty ? "" : ", after printing:\n\(output)"
            return "`\(command.joined(separator: " "))` \(what)\(printed)"
        }
    }

    /// Runs `command` (its first element looked up on `PATH`) and waits for it on a thread of its own, so that no
    /// task of the test's blocks in `waitpid`. Cancelling the calling task does not stop the command.
    ///
    /// - Throws: ``Failure`` when it could not be run, exited non-zero, or was killed.
    public static func run(_ command: [String]) async throws {
        // Made here, in the test's task, so that it writes to this test's log.
        let logger = Logger(label: "ChildProcess")
        let result = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Result { try runOnThisThread(command) }) }.start()
        }
        let output = try result.get()
        if !output.isEmpty { logger.debug("\(command.joined(separator: " ")):\n\(output)") }
    }

    /// Runs `command` and blocks this thread until it ends; returns what it printed.
    ///
    /// - Throws: ``Failure`` when it could not be run, exited non-zero, or was killed.
    @discardableResult
    public static func runOnThisThread(_ command: [String]) throws(Failure) -> String {
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("child-process-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, command[0], &actions, nil, arguments, environ)
        guard spawned == 0 else { throw Failure(command: command, reason: .notRun(errno: spawned), output: "") }

        var status: Int32 = 0
        var waited: pid_t
        repeat { waited = waitpid(pid, &status, 0) } while waited < 0 && errno == EINTR
        let waitError = errno
        let output = readOutput(at: outputPath)
        guard waited == pid else { throw Failure(command: command, reason: .notRun(errno: waitError), output: output) }
        // The layout of a wait status (glibc's <bits/waitstatus.h>; the W* macros are not visible to Swift): the low
        // seven bits hold the signal that ended the process (0 if it exited), the next byte its exit status.
        let signal = status & 0x7f
        let exitStatus = (status >> 8) & 0xff
        if signal != 0 { throw Failure(command: command, reason: .killed(signal: signal), output: output) }
        if exitStatus != 0 { throw Failure(command: command, reason: .exited(status: exitStatus), output: output) }
        return output
    }

    /// What the command wrote to the file at `path`, read with `read(2)`; empty when the file cannot be read.
    ///
    /// Not `String(contentsOfFile:)`: on Linux, Foundation loses the page it reads an empty file into, and a test run
    /// under LeakSanitizer reports every command that printed nothing.
    private static func readOutput(at path: String) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
