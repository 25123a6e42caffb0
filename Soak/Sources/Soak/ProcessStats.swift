import Foundation

/// The resident memory and open descriptors of this process, from /proc.
struct ProcessStats: CustomStringConvertible {
    /// Resident set size, in kB (`VmRSS` in /proc/self/status).
    var residentKB: Int
    /// Open file descriptors (entries of /proc/self/fd, less the one listing them).
    var descriptors: Int
    /// The descriptors by kind: `socket`, `pipe`, `anon_inode:[eventpoll]`, a file's path.
    var descriptorKinds: [String: Int]

    static func now() -> ProcessStats {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? -1
        var kinds: [String: Int] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for entry in entries {
            // The directory being listed is one of the entries, and is gone by now.
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry)
            else { continue }
            let kind = target.hasPrefix("socket:") ? "socket" : target.hasPrefix("pipe:") ? "pipe" : target
            kinds[kind, default: 0] += 1
        }
        return ProcessStats(residentKB: rss, descriptors: kinds.values.reduce(0, +), descriptorKinds: kinds)
    }

    var description: String {
        "RSS \(SoakReport.megabytes(residentKB)), \(descriptors) fds"
    }
}
