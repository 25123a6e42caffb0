/// A value that app code returned `sending`, carried out of a scope whose result type does not say `sending`.
///
/// The closure APIs return app code's result `sending`, so that a caller isolated to an actor gets it back as its
/// own. On the way the result passes through scopes of the standard library (`withTaskExecutorPreference`,
/// `TaskLocal.withValue`, `withoutActuallyEscaping`) that return their body's result as a plain value, which region
/// checking then ties to the caller's isolation: the result would no longer be `sending`. Boxed, it leaves such a
/// scope as a `Sendable` value and is taken out again still disconnected.
///
/// Safe because only a disconnected value goes in (`init` takes it `sending`) and nothing else refers to it: the box
/// is made at the end of the scope and taken at once after it, exactly once. The test doubles carry a result out of
/// a `Task` the same way.
package struct Disconnected<Value>: @unchecked Sendable {
    private let value: Value

    package init(_ value: sending Value) {
        self.value = value
    }

    /// The value, for the one caller that takes it.
    package consuming func take() -> sending Value {
        value
    }
}
