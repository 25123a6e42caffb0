import PostgresPolicy
import PostgresTransport

/// Opens sessions that sign in with the credential of the client's ``CredentialCache``.
///
/// A connect refused because of its credential (``TransportError/rejectsCredential``) while that credential was one
/// the cache had kept is made once more with a new one: the kept credential may have expired since it was fetched.
/// A connect refused with a credential fetched for it fails as it is. A refused credential is dropped either way,
/// so that later connects fetch another instead of trying it again.
struct CredentialedConnector: DatabaseConnector {
    let base: any DatabaseConnector
    let credentials: CredentialCache

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        let handout = try await credentials.credential(deadline: deadline)
        do {
            return try await base.connect(deadline: deadline, signingInWith: handout.credential)
        } catch let error as TransportError where error.rejectsCredential {
            credentials.drop(handout.credential)
            guard handout.wasKept else { throw error }
            let fresh = try await credentials.credential(deadline: deadline)
            do {
                return try await base.connect(deadline: deadline, signingInWith: fresh.credential)
            } catch let error as TransportError where error.rejectsCredential {
                credentials.drop(fresh.credential)
                throw error
            }
        }
    }
}

extension TransportError {
    /// Whether the server (or pgbouncer) refused the session's sign-in, which another credential may pass: a
    /// SQLSTATE of class 28 (28P01 for a password, md5 or SCRAM sign-in; 28000 for PAM, which AWS IAM sign-in goes
    /// through, LDAP or RADIUS on some versions, and a role that does not exist), other than `pg_hba.conf` refusing
    /// the host, which no credential changes; or pgbouncer's `password authentication failed` and `SASL
    /// authentication failed`, which carry 08P01.
    var rejectsCredential: Bool {
        guard phase == .connecting else { return false }
        if let sqlState, SQLState.Class.invalidAuthorizationSpecification ~= sqlState {
            return !message.contains("pg_hba.conf")
        }
        guard sqlState == nil || sqlState == .protocolViolation else { return false }
        let message = message.lowercased()
        // pgbouncer's own sign-in to the server, which may quote the server's refusal, is not this session's.
        guard !message.contains("server login has been failing") else { return false }
        return message.contains("password authentication failed") || message.contains("sasl authentication failed")
    }
}
