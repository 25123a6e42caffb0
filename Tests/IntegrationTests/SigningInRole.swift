import PostgresTransport
import Synchronization

/// A role of its own on the main cluster that must sign in with its password (a member of `password_signin`), and
/// that password, which the test changes with `ALTER ROLE … PASSWORD` as an identity service rotates tokens.
///
/// ``current()`` is what a credential provider hands out. A change waits until the last password handed out is
/// ``honoured`` old, and ``current()`` waits while a change is under way: as an identity service's token stays good
/// for a while after it is issued, a password handed out is never changed before its connect could sign in with it.
final class SigningInRole: Sendable {
    private struct State {
        var password: String
        var changes = 0
        var isChanging = false
        var lastHandedOut: ContinuousClock.Instant?
        var waiters: [CheckedContinuation<String?, Never>] = []
    }

    /// How long a password handed out stays the role's password, at least.
    static let honoured = Duration.seconds(1)

    let name: String
    let port: String
    private let state: Mutex<State>

    /// Creates the role with a first password.
    static func create(port: String) async throws -> SigningInRole {
        let role = SigningInRole(name: IntegrationServers.unique("signin"), port: port, password: "first")
        let admin = try await IntegrationServers.superuserSession(port: port)
        _ = try await admin.execute("CREATE ROLE \(role.name) LOGIN PASSWORD 'first' IN ROLE password_signin")
        await admin.close()
        return role
    }

    private init(name: String, port: String, password: String) {
        self.name = name
        self.port = port
        self.state = Mutex(State(password: password))
    }

    /// How many times the password changed.
    var changes: Int { state.withLock { $0.changes } }

    /// Connection options for the role, without a password: a credential provider supplies it.
    var parameters: ConnectionParameters {
        var parameters = IntegrationServers.appParameters(port: port, ["user": name])
        parameters["password"] = nil
        return parameters
    }

    /// The role's password now, once no change is under way.
    func current() async -> String {
        while true {
            let password: String? = await withCheckedContinuation { continuation in
                let password = state.withLock { state -> String? in
                    guard state.isChanging else {
                        state.lastHandedOut = .now
                        return state.password
                    }
                    state.waiters.append(continuation)
                    return nil
                }
                if let password { continuation.resume(returning: password) }
            }
            if let password { return password }
        }
    }

    /// Changes the role's password on `admin` (a superuser session), to `password` or a new one.
    func change(on admin: LibPQConnection, to password: String? = nil) async throws {
        let lastHandedOut = state.withLock { state in
            state.isChanging = true
            return state.lastHandedOut
        }
        if let lastHandedOut {
            try await Task.sleep(until: lastHandedOut.advanced(by: Self.honoured))
        }
        let password = password ?? "p\(UInt64.random(in: 0...UInt64.max))"
        do {
            _ = try await admin.execute("ALTER ROLE \(name) PASSWORD '\(password)'")
        } catch {
            finishChange(password: nil)
            throw error
        }
        finishChange(password: password)
    }

    private func finishChange(password: String?) {
        let waiters = state.withLock { state in
            if let password {
                state.password = password
                state.changes += 1
            }
            state.isChanging = false
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Drops the role; its sessions must be closed.
    func drop() async throws {
        let admin = try await IntegrationServers.superuserSession(port: port)
        _ = try await admin.execute("DROP ROLE IF EXISTS \(name)")
        await admin.close()
    }
}
