import Foundation
import ResilientPostgres

/// Where an app gets its access tokens: an identity SDK's client, say.
package protocol AccessTokens: Sendable {
    /// A token valid for at least a few minutes.
    func accessToken() async throws -> String
}

/// The samples of "Passwordless sign-in (Microsoft Entra ID, AWS IAM)" and of `CredentialProvider`'s doc comment.
package enum PasswordlessSignIn {
    /// A provider over an identity SDK (the doc comment of `CredentialProvider`).
    package static func configuration(tokens: some AccessTokens) throws -> PostgresClient.Configuration {
        var configuration = try PostgresClient.Configuration("host=db.example.com dbname=app user=app")
        configuration.credentials = CredentialProvider {
            try await Credential(password: tokens.accessToken(), validFor: .seconds(300))
        }
        return configuration
    }

    /// A client of Azure Database for PostgreSQL that signs in with Entra ID tokens from the Azure CLI.
    package static func azureClient() throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(
            "host=orders.postgres.database.azure.com dbname=orders user=orders-api "
                + "sslmode=verify-full sslrootcert=/etc/ssl/certs/azure-postgres-roots.pem"
        )
        configuration.credentials = CredentialProvider(refreshMargin: .seconds(120)) {
            try await AzureCLI.accessToken()
        }
        return PostgresClient(configuration: configuration)
    }

    /// A client of Amazon RDS that signs in with IAM authentication tokens from the AWS CLI.
    package static func rdsClient() throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(
            "host=orders.abc123.eu-west-1.rds.amazonaws.com dbname=orders user=orders_api "
                + "sslmode=verify-full sslrootcert=/etc/ssl/certs/rds-global-bundle.pem"
        )
        configuration.credentials = CredentialProvider {
            let token = try await Command.output(of: [
                "aws", "rds", "generate-db-auth-token",
                "--hostname", "orders.abc123.eu-west-1.rds.amazonaws.com", "--port", "5432",
                "--region", "eu-west-1", "--username", "orders_api",
            ])
            // IAM authentication tokens are good for 15 minutes.
            return Credential(password: token, validFor: .seconds(15 * 60))
        }
        return PostgresClient(configuration: configuration)
    }

    /// A provider that tells the client which of its failures no retry can fix.
    package static func markingFailures(tokens: some AccessTokens) -> CredentialProvider {
        CredentialProvider {
            do {
                return try await Credential(password: tokens.accessToken(), validFor: .seconds(300))
            } catch let error as Command.Failure where error.status == 127 {
                // The command is not installed: fail at once rather than for a whole budget.
                throw CredentialError.permanent(error)
            }
        }
    }
}

/// The Azure CLI's Entra ID tokens for Azure Database for PostgreSQL.
package enum AzureCLI {
    private struct AccessToken: Decodable {
        var accessToken: String
        /// When the token expires, in seconds since 1970 (`expires_on`, Azure CLI 2.54 and later).
        var expiresOn: TimeInterval

        enum CodingKeys: String, CodingKey {
            case accessToken
            case expiresOn = "expires_on"
        }
    }

    /// A token for the signed-in identity (`az login`, or a managed identity), valid until it says.
    package static func accessToken() async throws -> Credential {
        let json = try await Command.output(of: [
            "az", "account", "get-access-token", "--resource-type", "oss-rdbms", "--output", "json",
        ])
        let token = try JSONDecoder().decode(AccessToken.self, from: Data(json.utf8))
        return Credential(password: token.accessToken, expiresAt: Date(timeIntervalSince1970: token.expiresOn))
    }
}

/// Runs a command and returns what it printed, ending it if the task is cancelled.
package enum Command {
    /// A command that exited with a status other than 0.
    package struct Failure: Error {
        package var status: Int32
    }

    /// The standard output of `arguments` (looked up on `PATH`), without its final newline.
    package static func output(of arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        let data = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
                // Read once the command has ended: a token's few kilobytes fit in the pipe's buffer.
                process.terminationHandler = { _ in
                    continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile())
                }
                do {
                    try process.run()
                    // A cancellation that came before the command started found nothing to stop.
                    if Task.isCancelled { process.terminate() }
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
        guard process.terminationStatus == 0 else { throw Failure(status: process.terminationStatus) }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
