import PostgresTransport
import Testing
import TestSupport

/// How a multi-host list becomes one connect per host, and how long each may take.
@Suite("Host sequence", .capturingLogs)
struct HostSequenceTests {
    private func hosts(_ connectionString: String) throws -> [String] {
        try ConnectionParameters(connectionString).hostSequence.map { entry in
            ["host", "hostaddr", "port", "target_session_attrs"].compactMap { keyword in
                entry[keyword].map { "\(keyword)=\($0)" }
            }.joined(separator: " ")
        }
    }

    @Test func eachHostIsPairedWithItsPort() throws {
        #expect(try hosts("host=a,b port=5432,5433 target_session_attrs=read-write dbname=app") == [
            "host=a port=5432 target_session_attrs=read-write",
            "host=b port=5433 target_session_attrs=read-write",
        ])
        let entry = try #require(try ConnectionParameters("host=a,b dbname=app").hostSequence.last)
        #expect(entry["dbname"] == "app")
    }

    @Test func oneOrNoPortServesEveryHost() throws {
        #expect(try hosts("host=a,b,c port=6432") == ["host=a port=6432", "host=b port=6432", "host=c port=6432"])
        #expect(try hosts("host=a,b") == ["host=a", "host=b"])
    }

    @Test func urlsListHostsToo() throws {
        #expect(try hosts("postgresql://db1:5432,db2:5433/app") == ["host=db1 port=5432", "host=db2 port=5433"])
    }

    @Test func hostAddressesPairWithNames() throws {
        #expect(try hosts("host=a,b hostaddr=10.0.0.1,10.0.0.2") == [
            "host=a hostaddr=10.0.0.1", "host=b hostaddr=10.0.0.2",
        ])
        #expect(try hosts("hostaddr=10.0.0.1,10.0.0.2 port=1") == ["hostaddr=10.0.0.1 port=1", "hostaddr=10.0.0.2 port=1"])
    }

    @Test func preferStandbyIsTwoPasses() throws {
        #expect(try hosts("host=a,b target_session_attrs=prefer-standby") == [
            "host=a target_session_attrs=standby", "host=b target_session_attrs=standby",
            "host=a target_session_attrs=any", "host=b target_session_attrs=any",
        ])
    }

    @Test func listsLibpqMustJudgeStayWhole() throws {
        // One host; mismatched lists (libpq reports them); empty entries (libpq's defaults, which a copy cannot name).
        for connectionString in [
            "host=a port=1", "host=a,b port=1,2,3", "host=a,b hostaddr=10.0.0.1", "host=a,,b", "host=a,b port=,5433",
        ] {
            let parameters = try ConnectionParameters(connectionString)
            #expect(parameters.hostSequence == [parameters], "\(connectionString)")
        }
    }

    @Test func connectTimeoutIsLibpqsWhenGiven() throws {
        let fallback = Duration.seconds(5)
        #expect(try ConnectionParameters("host=a").hostConnectTimeout(default: fallback) == fallback)
        #expect(try ConnectionParameters("host=a connect_timeout=3").hostConnectTimeout(default: fallback) == .seconds(3))
        // libpq's minimum is 2 seconds; zero or less means no limit.
        #expect(try ConnectionParameters("host=a connect_timeout=1").hostConnectTimeout(default: fallback) == .seconds(2))
        #expect(try ConnectionParameters("host=a connect_timeout=0").hostConnectTimeout(default: fallback) == nil)
        #expect(try ConnectionParameters("host=a connect_timeout=-1").hostConnectTimeout(default: nil) == nil)
        let error = #expect(throws: TransportError.self) {
            try ConnectionParameters("host=a connect_timeout=soon").hostConnectTimeout(default: fallback)
        }
        #expect(error?.code == .invalidConnectionString)
        #expect(error?.message.contains("connect_timeout") == true)
    }
}
