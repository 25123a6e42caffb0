import PostgresTransport

extension PoolStateMachine {
    /// The failure of a connect, judged by what this client knows of its host names: the names it resolved are
    /// remembered, and its ``TransportError/hostNamesNotFound`` is kept only when none of them ever resolved for
    /// this client.
    ///
    /// A name that has never resolved is almost always a mistyped host, and the operation fails at once
    /// (`ErrorClass.hostNotFound`). A name that did resolve once and now does not is more likely DNS changing (as it
    /// does during a failover): it is emptied, and the failure is retried as unreachable. The host of every session
    /// opened counts as resolved (see ``connected(_:host:for:now:)``).
    mutating func judgingHostNames(of failure: TransportError) -> TransportError {
        var failure = failure
        resolvedHostNames.formUnion(failure.resolvedHostNames.map { $0.lowercased() })
        if failure.hostNamesNotFound.contains(where: { resolvedHostNames.contains($0.lowercased()) }) {
            failure.hostNamesNotFound = []
        }
        return failure
    }
}
