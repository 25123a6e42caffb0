extension LibPQConnection {
    /// Refuses, before anything is sent, parameters that libpq cannot send as given: a text value with a NUL byte
    /// (libpq would silently cut it short) or more than 65535 of them (the protocol's limit).
    ///
    /// - Throws: ``TransportError/Code/invalidParameter`` with phase ``TransportError/Phase/notSent``.
    func checkParameters(_ parameters: [Parameter], statementIndex: Int? = nil) throws {
        if let index = parameters.firstIndex(where: \.containsNUL) {
            throw TransportError(
                code: .invalidParameter,
                message: "text parameter $\(index + 1) contains a NUL byte, which PostgreSQL text cannot hold",
                host: host, port: port, phase: .notSent, isConnectionUsable: true, statementIndex: statementIndex
            )
        }
        guard parameters.count <= Int(UInt16.max) else {
            throw TransportError(
                code: .invalidParameter, message: "more than 65535 parameters",
                host: host, port: port, phase: .notSent, isConnectionUsable: true, statementIndex: statementIndex
            )
        }
    }
}
