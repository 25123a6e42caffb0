/// Which missing writes one span of ``Formation/unprotectedWrites(in:)`` accounts for: those that look like the
/// work of a rewind, which discards every commit after the new primary's fork point.
///
/// They are the writes the span's node acknowledged from the span's start to a second after it reported itself
/// demoted (an answer still on its way), and they count only if every write it acknowledged from the first missing
/// one on is missing too, allowing 50 ms for answers to other writers that committed before it. A span whose
/// missing writes are not all at its end accounts for none.
public struct RewoundWrites: Sendable {
    /// An acknowledged write: its key, the port of the server that acknowledged it, when (milliseconds since the
    /// run's start), and whether it is missing afterwards.
    public struct Acknowledgement: Sendable {
        public var key: String
        public var port: Int
        public var milliseconds: Int
        public var isMissing: Bool

        public init(key: String, port: Int, milliseconds: Int, isMissing: Bool) {
            self.key = key
            self.port = port
            self.milliseconds = milliseconds
            self.isMissing = isMissing
        }
    }

    /// The writes the node acknowledged in the span.
    public var acknowledged: Int
    /// Those of them missing afterwards.
    public var missing: [String]
    /// The writes acknowledged more than 50 ms after the first missing one and present afterwards.
    public var presentAfterFirstMissing: Int

    /// The missing writes the span accounts for: all of them, or none.
    public var discarded: [String] { presentAfterFirstMissing == 0 ? missing : [] }

    /// Reads the span from `from` to `demoted` (milliseconds since the run's start) of the node on `port`, in
    /// `acknowledgements` ordered by time.
    public init(port: Int, from: Int, demoted: Int, acknowledgements: [Acknowledgement]) {
        let inSpan = acknowledgements.filter {
            $0.port == port && $0.milliseconds >= from && $0.milliseconds <= demoted + 1000
        }
        acknowledged = inSpan.count
        missing = inSpan.filter(\.isMissing).map(\.key)
        let firstMissing = inSpan.first(where: \.isMissing)?.milliseconds
        presentAfterFirstMissing = firstMissing.map { first in
            inSpan.filter { $0.milliseconds > first + 50 && !$0.isMissing }.count
        } ?? 0
    }
}
