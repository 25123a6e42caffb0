/// One broken promise, with the evidence.
package struct Violation: Sendable, CustomStringConvertible {
    package var invariant: Invariant
    package var evidence: String

    package var description: String { "\(invariant.rawValue): \(evidence)" }
}
