import Foundation

/// What a server's log (`log_connections = on`, `log_line_prefix` starting with `%m`) says about connections.
struct ServerLog {
    /// When each connection attempt reached the server (`connection received`).
    var attempts: [Date] = []
    /// When the server refused one for want of slots (53300: `sorry, too many clients already`, the slots left
    /// are reserved for superusers, or the role's connection limit is reached).
    var refusals: [Date] = []
    /// When the server said it was ready to accept connections.
    var ready: [Date] = []

    /// The events of the logs at `paths`, merged.
    init(paths: [String]) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS zzz"
        let lines = try paths.flatMap { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n") }
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 3)
            guard fields.count == 4, let date = formatter.date(from: fields[0...2].joined(separator: " ")) else {
                continue
            }
            if line.contains("connection received:") {
                attempts.append(date)
            } else if line.contains("sorry, too many clients already")
                || line.contains("remaining connection slots are reserved")
                || line.contains("too many connections for role") {
                refusals.append(date)
            } else if line.contains("database system is ready to accept connections") {
                ready.append(date)
            }
        }
        ready.sort()
    }

    /// Events per second within `window`: the peak over whole seconds, and the mean over the window.
    static func rate(of events: [Date], in window: ClosedRange<Date>) -> (peak: Int, mean: Double) {
        let inside = events.filter { window.contains($0) }
        let seconds = max(window.upperBound.timeIntervalSince(window.lowerBound), 1)
        let buckets = Dictionary(grouping: inside) { Int($0.timeIntervalSince(window.lowerBound)) }
        return (buckets.values.map(\.count).max() ?? 0, Double(inside.count) / seconds)
    }
}
