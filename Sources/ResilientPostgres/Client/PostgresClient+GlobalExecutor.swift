internal import PostgresTransport

extension PostgresClient {
    /// Makes the clients' I/O threads Swift Concurrency's global executor, for the whole process, so that code
    /// awaiting a query resumes on the thread that read its answer, without a switch of threads.
    @discardableResult
    public static func unsafeTryInstallIOThreadsAsGlobalExecutor() -> Bool {
        IOThread.installAsGlobalExecutor()
    }
}
