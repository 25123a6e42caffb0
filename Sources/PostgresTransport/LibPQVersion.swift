internal import CLibPQ

/// The version of the libpq library this process is linked against, as `PQlibVersion()` reports it (150018 for 15.18).
public var libpqVersion: Int { Int(PQlibVersion()) }
