import PostgresPolicy

/// A random number generator whose sequence is fixed by its seed: the one the client draws its backoff jitter from.
///
/// A client made with `PostgresClient.testing(_:randomSeed:configure:)` draws every jitter from generators
/// seeded from `randomSeed`, so the same seed gives the same waits on every run. Use this type for the randomness of
/// your own code under test. Not for cryptography.
public typealias SeededRandomNumberGenerator = PostgresPolicy.SplitMix64
