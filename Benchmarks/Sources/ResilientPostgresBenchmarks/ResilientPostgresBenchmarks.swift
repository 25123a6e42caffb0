import ArgumentParser
import BenchmarkSupport

/// Runs every workload through raw libpq (C), postgres-nio and ResilientPostgres, interleaved, and reports medians.
///
/// The commands are synchronous and run their async work with ``runBlocking(_:)``: an async `main` parks the main
/// thread in `dispatch_main`, whose `sigsuspend` valgrind 3.19 cannot run, and the children must run under callgrind.
@main
struct ResilientPostgresBenchmarks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ResilientPostgresBenchmarks",
        abstract: "Compare ResilientPostgres with raw libpq and postgres-nio on one throwaway PostgreSQL server.",
        discussion: """
            The server comes from POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER and POSTGRES_DB, as \
            scripts/with-test-servers.sh exports them: run `make bench` (or `make bench ARGS=--pin`).
            """,
        subcommands: [RunCommand.self, SetupCommand.self, ChildCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

extension Workload: ExpressibleByArgument {}
extension SystemName: ExpressibleByArgument {}
