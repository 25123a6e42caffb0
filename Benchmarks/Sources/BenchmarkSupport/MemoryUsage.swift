#if canImport(Glibc)
import Glibc
#endif

/// The process's resident memory, as Linux reports it in `/proc/self/status`.
///
/// `VmHWM` is the peak resident set of this process image since it started (it is reset by `exec`, unlike
/// `getrusage`'s `ru_maxrss`, which can carry the parent's peak across a `posix_spawn`). `VmRSS` is the resident
/// set now. Both include the Swift runtime, Foundation and every library the executable maps.
public struct MemoryUsage: Sendable {
    /// The resident set now, in KiB.
    public var residentKiB: Int
    /// The peak resident set so far, in KiB.
    public var peakResidentKiB: Int

    /// Reads `/proc/self/status`; zeros where it cannot be read.
    public static func current() -> MemoryUsage {
        let status = ProcessStatus.read()
        return MemoryUsage(
            residentKiB: status.kibibytes("VmRSS") ?? 0,
            peakResidentKiB: status.kibibytes("VmHWM") ?? 0
        )
    }
}

/// The fields of `/proc/self/status`.
public struct ProcessStatus: Sendable {
    private let fields: [String: String]

    /// Reads `/proc/self/status`; empty where it cannot be read.
    public static func read() -> ProcessStatus {
        var fields: [String: String] = [:]
        for line in (readFile("/proc/self/status") ?? "").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            fields[String(line[..<colon])] = String(value)
        }
        return ProcessStatus(fields: fields)
    }

    /// A field as text.
    public subscript(field: String) -> String? { fields[field] }

    /// A `kB` field as a number of KiB.
    public func kibibytes(_ field: String) -> Int? {
        fields[field]?.split(separator: " ").first.flatMap { Int($0) }
    }

    /// How many CPUs the process may run on (`Cpus_allowed_list`, such as `0` or `0-1,3`).
    public var allowedCPUCount: Int? {
        guard let list = fields["Cpus_allowed_list"] else { return nil }
        var count = 0
        for range in list.split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first, let high = bounds.last, low <= high else { return nil }
            count += high - low + 1
        }
        return count
    }

    private static func readFile(_ path: String) -> String? {
        #if canImport(Glibc)
        let descriptor = Glibc.open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { Glibc.close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
        #else
        return nil
        #endif
    }
}
