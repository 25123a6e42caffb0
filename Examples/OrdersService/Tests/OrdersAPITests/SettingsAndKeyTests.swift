import OrdersAPI
import Testing

struct ServiceSettingsTests {
    @Test func defaultsLeaveTheDatabaseToLibpq() throws {
        let settings = try ServiceSettings(environment: [:])
        #expect(settings.databaseURL == "")
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 8080)
    }

    @Test func readsEveryVariable() throws {
        let settings = try ServiceSettings(environment: [
            "DATABASE_URL": "postgresql://shop@db/shop", "BIND_HOST": "0.0.0.0", "PORT": "9000",
        ])
        #expect(settings.databaseURL == "postgresql://shop@db/shop")
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 9000)
    }

    @Test func readsTheTokenCommandAndItsLifetime() throws {
        #expect(try ServiceSettings(environment: [:]).databaseToken == nil)
        let settings = try ServiceSettings(environment: [
            "DATABASE_TOKEN_COMMAND": "printenv PGPASSWORD", "DATABASE_TOKEN_LIFETIME": "600",
        ])
        #expect(settings.databaseToken == DatabaseToken(command: "printenv PGPASSWORD", lifetime: .seconds(600)))
        let error = #expect(throws: InvalidSetting.self) {
            try ServiceSettings(environment: ["DATABASE_TOKEN_COMMAND": "true", "DATABASE_TOKEN_LIFETIME": "soon"])
        }
        #expect(error?.variable == "DATABASE_TOKEN_LIFETIME")
    }

    @Test(arguments: ["", "http", "0", "65536", "-1"])
    func refusesAPortThatIsNotOne(port: String) {
        let error = #expect(throws: InvalidSetting.self) {
            try ServiceSettings(environment: ["PORT": port])
        }
        #expect(error?.variable == "PORT")
        #expect(error?.description == "PORT must be a TCP port number, 1 to 65535")
    }
}

struct OrderKeyTests {
    @Test(arguments: ["a", "order-1", "9F3C2A4E-0B1D-4C8E-9E0A-2D7F5B6C1A3E", "2024.07_x~y", String(repeating: "k", count: 100)])
    func accepts(key: String) {
        #expect(OrderKey(key)?.text == key)
    }

    @Test(arguments: ["", ".", "..", "a b", "a/b", "a%20b", "é", String(repeating: "k", count: 101)])
    func refuses(key: String) {
        #expect(OrderKey(key) == nil)
    }
}

struct OrderRequestTests {
    @Test func aReasonableOrderHasNoProblem() {
        #expect(OrderRequest(customer: "ada", item: "espresso", quantity: 1).problem == nil)
    }

    @Test(arguments: [
        (OrderRequest(customer: "", item: "espresso", quantity: 1), "customer"),
        (OrderRequest(customer: "ada", item: "", quantity: 1), "item"),
        (OrderRequest(customer: "ada", item: "espresso", quantity: 0), "quantity"),
        (OrderRequest(customer: "ada", item: "espresso", quantity: 10_001), "quantity"),
        (OrderRequest(customer: String(repeating: "a", count: 201), item: "espresso", quantity: 1), "customer"),
    ])
    func aProblemNamesTheField(request: OrderRequest, field: String) {
        #expect(request.problem?.hasPrefix(field) == true)
    }
}
