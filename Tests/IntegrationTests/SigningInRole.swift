import PostgresTransport
import ResilientPostgres
import Synchronization

/// Roles of their own on the main cluster that must sign in with their passwords (members of `password_signin`),
/// and those passwords, which the test changes with `ALTER ROLE … PASSWORD` as an identity service rotates tokens.
///
/// ``current()`` is what a credential provider hands out: the password of the role whose turn it is, with that
/// role's name. A change gives the next role (in turn) a new password and makes it current. With one role, a change
/// replaces the password handed out so far, as a rotation with no overlap does. With several, a password handed out
/// stays good until its role's next turn, as an identity service's earlier tokens stay good until they expire.
///
/// Either way a change waits until the last password handed out for the role it changes is ``honoured`` old, and
/// ``current()`` waits while a change is under way: a password handed out is never changed before a connect could
/// sign in with it.
final class SigningInRole: Sendable {
    private struct State {
        var passwords: [String]
        /// The role whose password ``current()`` hands out.
        var turn = 0
        var changes = 0
        var isChanging = false
        var lastHandedOut: [ContinuousClock.Instant?]
        var waiters: [CheckedContinuation<Credential?, Never>] = []
    }

    /// The roles, in turn; the first is the connection options' user.
    let names: [String]
    let port: String
    /// How long a password handed out stays its role's password, at least.
    let honoured: Duration
    private let state: Mutex<State>

    /// Creates `roles` roles, each with a first password.
    static func create(port: String, roles: Int = 1, honoured: Duration = .seconds(1)) async throws -> SigningInRole {
        let name = IntegrationServers.unique("signin")
        let names = roles == 1 ? [name] : (1...roles).map { "\(name)_\($0)" }
        let role = SigningInRole(names: names, port: port, honoured: honoured)
        let admin = try await IntegrationServers.superuserSession(port: port)
        for name in names {
            _ = try await admin.execute("CREATE ROLE \(name) LOGIN PASSWORD 'first' IN ROLE password_signin")
        }
        await admin.close()
        return role
    }

    private init(names: [String], port: String, honoured: Duration) {
        self.names = names
        self.port = port
        self.honoured = honoured
        self.state = Mutex(State(
            passwords: Array(repeating: "first", count: names.count),
            lastHandedOut: Array(repeating: nil, count: names.count)
        ))
    }

    /// How many times a password changed.
    var changes: Int { state.withLock { $0.changes } }

    /// Connection options for the first role, without a password: a credential provider supplies it.
    var parameters: ConnectionParameters {
        var parameters = IntegrationServers.appParameters(port: port, ["user": names[0]])
        parameters["password"] = nil
        return parameters
    }

    /// The current role's password, once no change is under way.
    func current() async -> String {
        await currentCredential(validFor: nil).password
    }

    /// The current role and its password, valid for `validFor`, once no change is under way.
    func currentCredential(validFor: Duration?) async -> Credential {
        while true {
            let credential: Credential? = await withCheckedContinuation { continuation in
                let credential = state.withLock { state -> Credential? in
                    guard state.isChanging else {
                        state.lastHandedOut[state.turn] = .now
                        return Credential(
                            password: state.passwords[state.turn], user: names[state.turn], validFor: validFor
                        )
                    }
                    state.waiters.append(continuation)
                    return nil
                }
                if let credential { continuation.resume(returning: credential) }
            }
            if let credential { return credential }
        }
    }

    /// Gives the next role in turn a new password (`password`, or a random one) on `admin`, a superuser session,
    /// and makes it the current role.
    func change(on admin: LibPQConnection, to password: String? = nil) async throws {
        let (next, lastHandedOut) = state.withLock { state in
            state.isChanging = true
            let next = (state.turn + 1) % names.count
            return (next, state.lastHandedOut[next])
        }
        if let lastHandedOut {
            try await Task.sleep(until: lastHandedOut.advanced(by: honoured))
        }
        let password = password ?? "p\(UInt64.random(in: 0...UInt64.max))"
        do {
            _ = try await admin.execute("ALTER ROLE \(names[next]) PASSWORD '\(password)'")
        } catch {
            finishChange(nil)
            throw error
        }
        finishChange((next, password))
    }

    private func finishChange(_ change: (role: Int, password: String)?) {
        let waiters = state.withLock { state in
            if let change {
                state.passwords[change.role] = change.password
                state.turn = change.role
                state.changes += 1
            }
            state.isChanging = false
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Drops the roles; their sessions must be closed.
    func drop() async throws {
        let admin = try await IntegrationServers.superuserSession(port: port)
        for name in names {
            _ = try await admin.execute("DROP ROLE IF EXISTS \(name)")
        }
        await admin.close()
    }
}
