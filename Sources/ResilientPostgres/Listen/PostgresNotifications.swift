/// The events of a listener, as ``PostgresClient/listen(to:options:)-(String...,_)`` returns them: each iteration
/// runs its own listener, on its own session, from its start to its end.
///
/// Ending the iteration (leaving the loop, or cancelling the task that iterates) closes the session. The iteration
/// throws only ``ListenerError``, when listening cannot work where the session is connected or a channel name is
/// invalid; every other failure is retried, and reported as ``ListenEvent/reconnecting(_:)`` and then
/// ``ListenEvent/gap(_:)``.
public struct PostgresNotifications: AsyncSequence, Sendable {
    public typealias Element = ListenEvent
    public typealias Failure = ListenerError

    let client: PostgresClient
    let channels: [String]
    let options: ListenOptions

    /// Starts a listener.
    public func makeAsyncIterator() -> Iterator {
        let listener = NotificationListener(client: client, channels: channels, options: options)
        listener.start()
        return Iterator(owner: Owner(listener: listener))
    }

    /// Takes a listener's events one at a time.
    public struct Iterator: AsyncIteratorProtocol {
        let owner: Owner

        /// The next event, waiting for it without leaving the caller's actor; nil once the iteration ended (its
        /// task was cancelled).
        ///
        /// - Throws: ``ListenerError`` when listening cannot work where the session is connected, or a channel
        ///   name is invalid.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ListenerError) -> ListenEvent? {
            try await owner.listener.next(isolation: actor)
        }

        /// The next event, waiting for it; nil once the iteration ended (its task was cancelled).
        ///
        /// - Throws: ``ListenerError``, as ``next(isolation:)``.
        public mutating func next() async throws(ListenerError) -> ListenEvent? {
            try await owner.listener.next(isolation: nil)
        }

        /// The notifications the listener holds for the consumer, and those it dropped since its buffer was last
        /// full: for tests that wait until a slow consumer's buffer overflowed.
        package var bufferedNotifications: (waiting: Int, dropped: Int) {
            owner.listener.bufferedNotifications
        }
    }

    /// Stops the listener when the iteration is dropped (a loop left by `break`, `return` or a thrown error).
    final class Owner: Sendable {
        let listener: NotificationListener

        init(listener: NotificationListener) {
            self.listener = listener
        }

        deinit {
            listener.stop()
        }
    }
}
