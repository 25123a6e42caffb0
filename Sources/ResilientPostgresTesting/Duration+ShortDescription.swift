extension Duration {
    /// The duration in seconds, to the microsecond, as in `5 s` or `0.275 s`: short enough for a failure message.
    var shortDescription: String {
        let (seconds, attoseconds) = components
        let negative = seconds < 0 || attoseconds < 0
        let microseconds = abs(seconds) * 1_000_000 + abs(attoseconds) / 1_000_000_000_000
        let whole = microseconds / 1_000_000
        var fraction = String(microseconds % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return (negative ? "-" : "") + String(whole) + (fraction.isEmpty ? "" : "." + fraction) + " s"
    }
}
