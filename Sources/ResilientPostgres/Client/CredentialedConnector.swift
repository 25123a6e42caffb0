import PostgresPolicy
import PostgresTransport

/// Opens sessions that sign in with the credential of the client's ``CredentialCache``.
///
/// A connect refused because of its credential (``TransportError/rejectsCredential``) while that credential was one
/// the cache had kept is made once more with a new one: the kept credential may have expired since it was fetched.
/// A connect refused with a credential fetched for it fails as it is.
struct CredentialedConnector: DatabaseConnector {
    let base: any DatabaseConnector
    let credentials: CredentialCache

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        let handout = try await credentials.credential(deadline: deadline)
        do {
            return try await base.connect(deadline: deadline, signingInWith: handout.credential)
        } catch let error as TransportError where handout.wasKept && error.rejectsCredential {
            credentials.drop(handout.credential)
            let fresh = try await credentials.credential(deadline: deadline)
            return try await base.connect(deadline: deadline, signingInWith: fresh.credential)
        }
    }
}

extension TransportError {
    /// Whether the server (or pgbouncer) refused the session because of its password: 28P01, or pgbouncer's
    /// `password authentication failed` and `SASL authentication failed`, which carry 08P01.
    ///
    /// PostgreSQL reports every failed password, SCRAM, LDAP or RADIUS sign-in as 28P01; its 28000 is for what no
    /// other credential can fix (`pg_hba.conf` rejecting the host, peer or certificate authentication failing).
    var rejectsCredential: Bool {
        guard phase == .connecting else { return false }
        if sqlState == .invalidPassword { return true }
        guard sqlState == nil || sqlState == .protocolViolation else { return false }
        let message = message.lowercased()
        // pgbouncer's own sign-in to the server, which may quote the server's refusal, is not this session's.
        guard !message.contains("server login has been failing") else { return false }
        return message.contains("password authentication failed") || message.contains("sasl authentication failed")
    }
}
