import PostgresPolicy

/// An instant for the pool's state machine: the client's instant as every operation keeps it, in nanoseconds from
/// the clock's epoch (see `OffsetInstant+ContinuousClock.swift` in the transport).
///
/// `ContinuousClock.Instant` is resilient (its layout is known only at run time), so a value holding one is copied
/// and compared through the runtime; the machine's sessions, waiters and timers hold this fixed-layout value
/// instead, the same the operation's deadline is, so that the driver passes an operation's instants to the machine
/// as they are, and converts only where a clock's instant is needed: its timers' sleeps, and the connects, checks,
/// resets and probes of its slow path.
package typealias PoolInstant = OffsetInstant
