public import Foundation

/// What a new session signs in with: a password (for passwordless sign-in, an access token), optionally the user,
/// and how long it stays good for new sessions.
///
/// `description` and `String(reflecting:)` never show the password.
public struct Credential: Sendable, Hashable {
    /// The password, or the access token that stands for one.
    public var password: String
    /// The user to sign in as, or `nil` for the connection options' `user`.
    public var user: String?
    /// How long after it was fetched the credential may still open sessions, or `nil` for as long as the server
    /// accepts it (the client then fetches another only after a rejection).
    public var validFor: Duration?

    /// A credential valid for `validFor` from now (`nil`: until the server rejects it).
    public init(password: String, user: String? = nil, validFor: Duration? = nil) {
        self.password = password
        self.user = user
        self.validFor = validFor
    }

    /// A credential valid until `expiresAt`, as identity services state it (an access token's `expires_on`).
    public init(password: String, user: String? = nil, expiresAt: Date) {
        let seconds = max(0, expiresAt.timeIntervalSinceNow)
        self.init(password: password, user: user, validFor: .milliseconds(Int64(seconds * 1000)))
    }
}

extension Credential: CustomStringConvertible, CustomDebugStringConvertible {
    /// The user and validity, with the password shown as `********`.
    public var description: String {
        var text = "Credential(user: \(user ?? "(from the connection options)"), password: ********"
        if let validFor { text += ", valid for: \(validFor)" }
        return text + ")"
    }

    /// The same as ``description``: the password is never shown.
    public var debugDescription: String { description }
}

extension Credential: CustomReflectable {
    /// The credential's fields, the password masked, for `dump` and other reflection-based reporters.
    public var customMirror: Mirror {
        Mirror(self, children: ["password": "********", "user": user as Any, "validFor": validFor as Any])
    }
}

/// Where new sessions get their credential: an app's function that fetches one (from an identity SDK, a command,
/// a secrets store), called for a new session only when the client holds no credential still good for one.
///
/// The client keeps the last credential until ``refreshMargin`` before it expires, and runs one fetch at a time
/// however many sessions open at once; operations never call it themselves. A session that opens keeps serving
/// after its credential expires: the server checks a credential only when a session signs in.
///
/// ```swift
/// var configuration = try PostgresClient.Configuration("host=db.example.com dbname=app user=app")
/// configuration.credentials = CredentialProvider {
///     try await Credential(password: tokens.accessToken(), validFor: .seconds(300))
/// }
/// ```
///
/// When the provider throws, the client treats the failure as it treats any other: a ``CredentialError`` marked
/// ``CredentialError/permanent(_:)`` fails the operation at once (`ErrorClass.permanent`); any other error,
/// unmarked errors included, is `ErrorClass.credentialUnavailable`, retried with backoff within the operation's
/// budget. Unmarked errors count as transient because most are an identity service briefly out of reach, and
/// asking it again sends nothing to the database and costs only time. The provider's error is the operation's
/// ``PostgresError/credentialError``.
///
/// When a session is refused for its sign-in (28P01 `password authentication failed`, pgbouncer's too, or 28000 from
/// PAM, which AWS IAM sign-in uses; not `pg_hba.conf` refusing the host) while it used a credential the client had
/// kept, the token may have expired between the fetch and the connect: the client drops it, fetches once more and
/// connects again before it reports anything. A credential fetched for the connect itself that is refused is a
/// permanent failure, and is dropped.
public struct CredentialProvider: Sendable {
    /// How long before a credential's expiry the client stops opening sessions with it and fetches another.
    ///
    /// It covers the time a connect takes (up to ``PostgresClient/Configuration/connectTimeout``) and clock skew
    /// between this host and the identity service. A credential valid for less than the margin serves only the
    /// connect that fetched it.
    public var refreshMargin: Duration
    /// How long one call of the provider may take before the client gives it up (cancels it and drops its answer),
    /// fails the connects waiting for it as `ErrorClass.credentialUnavailable` (retried), and lets the next connect
    /// call again.
    public var fetchTimeout: Duration
    /// The app's function that fetches a credential.
    let fetch: @Sendable () async throws -> Credential

    /// A provider that calls `fetch` for a credential when new sessions need one.
    ///
    /// - Parameters:
    ///   - refreshMargin: how long before a credential's expiry it stops being used for new sessions (60 s).
    ///   - fetchTimeout: how long one call may take before it is given up and the next connect calls again (30 s).
    ///   - fetch: fetches a credential; it may throw ``CredentialError`` to say whether retrying can help. Connects
    ///     wait for a call until their operation's deadline, and later ones join a call still under way, until
    ///     `fetchTimeout`. It should end soon after its task is cancelled (at the timeout, or at `shutdown()`); one
    ///     that does not is abandoned, and what it returns is dropped.
    public init(
        refreshMargin: Duration = .seconds(60),
        fetchTimeout: Duration = .seconds(30),
        _ fetch: @escaping @Sendable () async throws -> Credential
    ) {
        self.refreshMargin = refreshMargin
        self.fetchTimeout = fetchTimeout
        self.fetch = fetch
    }
}

/// A credential provider's failure, marked as worth retrying or not.
///
/// Throw it from a ``CredentialProvider`` to say what retrying can do: ``permanent(_:)`` for a failure no retry
/// fixes (the app's identity lacks the permission, the command is not installed), ``transient(_:)`` for one that may
/// clear (the token service answered 503). An error thrown unmarked counts as transient.
public struct CredentialError: Error, Sendable {
    /// The provider's own error; the operation's ``PostgresError/credentialError`` is this.
    public var underlyingError: any Error
    /// Whether retrying cannot help.
    public var isPermanent: Bool

    /// A failure that retrying cannot fix: operations fail at once.
    public static func permanent(_ error: any Error) -> CredentialError {
        CredentialError(underlyingError: error, isPermanent: true)
    }

    /// A failure that may clear: retried with backoff within the operation's budget.
    public static func transient(_ error: any Error) -> CredentialError {
        CredentialError(underlyingError: error, isPermanent: false)
    }
}
