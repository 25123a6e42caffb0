import Foundation

/// The demo's command line.
struct Settings {
    var primaryPort = ""
    var standbyPort = ""
    var primaryName = "primary"
    var standbyName = "standby"
    var clusterScript = ""
    var user = "app"
    var password = "app-secret"
    var adminUser = "postgres"
    var database = "postgres"
    var writers = 8
    /// Plain writes, whose lost answers end as unknown outcomes, instead of writes with a verified commit.
    var plain = false
    /// How long the writers run before the primary is killed.
    var warmUp: Duration = .seconds(2)
    /// How long they go on after the standby accepts writes.
    var afterPromotion: Duration = .seconds(3)

    static let usage = """
        usage: FailoverDemo --primary-port P --standby-port S --cluster-script PATH
                            [--primary-name primary] [--standby-name standby] [--writers 8]
                            [--user app] [--password app-secret] [--admin-user postgres] [--dbname postgres]
                            [--plain]
        """

    static func parse(_ arguments: [String]) -> Settings? {
        var settings = Settings()
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            if flag == "--plain" {
                settings.plain = true
                continue
            }
            guard let value = remaining.popFirst() else { return nil }
            switch flag {
            case "--primary-port": settings.primaryPort = value
            case "--standby-port": settings.standbyPort = value
            case "--primary-name": settings.primaryName = value
            case "--standby-name": settings.standbyName = value
            case "--cluster-script": settings.clusterScript = value
            case "--user": settings.user = value
            case "--password": settings.password = value
            case "--admin-user": settings.adminUser = value
            case "--dbname": settings.database = value
            case "--writers": guard let writers = Int(value), writers > 0 else { return nil }; settings.writers = writers
            default: return nil
            }
        }
        guard !settings.primaryPort.isEmpty, !settings.standbyPort.isEmpty, !settings.clusterScript.isEmpty else {
            return nil
        }
        return settings
    }

    /// What the app uses: both hosts, read-write targeting (the client's default) finds the primary.
    var applicationConnection: String {
        "host=127.0.0.1,127.0.0.1 port=\(primaryPort),\(standbyPort) user=\(user) password=\(password) dbname=\(database)"
    }

    func adminConnection(port: String) -> String {
        "host=127.0.0.1 port=\(port) user=\(adminUser) dbname=\(database) target_session_attrs=any"
    }
}
