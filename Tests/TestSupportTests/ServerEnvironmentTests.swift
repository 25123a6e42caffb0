import Testing
import TestSupport

@Suite("Server environment")
struct ServerEnvironmentTests {
    static let run = ServerEnvironment([
        "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "6001", "POSTGRES_MAIN_PORT": "6001",
        "POSTGRES_BOUNCER_PRIMARY_PORT": "6002", "POSTGRES_BOUNCER_PRIMARY_LOG": "/tmp/bouncer.log",
        "POSTGRES_TLS_PORT": "6003", "POSTGRES_TLS_SSLROOTCERT": "/tmp/root.crt",
        "POSTGRES_APP_USER": "app", "POSTGRES_APP_PASSWORD": "secret",
    ])

    @Test func serversAreFoundByTheirNameUppercasedWithUnderscores() throws {
        let bouncer = try #require(Self.run.server("bouncer-primary"))
        #expect(bouncer.port == "6002")
        #expect(bouncer.log == "/tmp/bouncer.log")
        #expect(Self.run.server("tls")?.rootCertificate == "/tmp/root.crt")
        #expect(Self.run.server("storm") == nil)
        #expect(Self.run.main.port == "6001")
    }

    @Test func mainIsFoundByPostgresPortAlone() {
        let own = ServerEnvironment(["POSTGRES_PORT": "7000"])
        #expect(own.has("main"))
        #expect(own.main.parameters()["port"] == "7000")
        #expect(!ServerEnvironment([:]).has("main"))
    }

    @Test func aServerIsAvailableOnlyWithTheClusterScriptWhenItIsNeeded() {
        #expect(Self.run.has("main", "tls"))
        #expect(!Self.run.has("main", clusterScript: true))
        #expect(Self.run.skipReason(needing: "storm", clusterScript: true).rawValue
            == "needs the `storm` server that `make test` starts (POSTGRES_STORM_PORT, POSTGRES_CLUSTER_SCRIPT unset)")
    }

    @Test func appParametersLogInWithThePasswordAndOverridesWin() {
        let parameters = Self.run.main.appParameters(["dbname": "other"])
        #expect(parameters["user"] == "app")
        #expect(parameters["password"] == "secret")
        #expect(parameters["dbname"] == "other")
        #expect(parameters["host"] == "127.0.0.1")
    }
}
