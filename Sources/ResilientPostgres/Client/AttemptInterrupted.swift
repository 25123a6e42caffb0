import PostgresTransport

/// An attempt that failed past the point where running it again would be invisible: a COPY FROM STDIN whose data,
/// which cannot be read again, had started to reach the server. The retry loop gives up on it, with the attempts
/// before it in the error's history, as for any failure it does not retry.
struct AttemptInterrupted: Error {
    var failure: TransportError
    /// Whether the server may have applied the attempt: the end of its data was sent, and the answer was lost.
    var mayHaveBeenApplied: Bool
}
