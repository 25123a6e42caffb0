import Foundation

extension ConnectionParameters {
    /// The parameters of each host entry of a multi-host list, in the order libpq tries them, so that a connect
    /// can bound its time on each host: libpq's non-blocking connect does not apply `connect_timeout` at all.
    ///
    /// Each copy keeps every other option (`target_session_attrs` too, so libpq still refuses a host whose session
    /// does not fit) and has one `host`, `hostaddr` and `port` entry, paired as libpq pairs them: entry by entry, or
    /// one port for every host. `target_session_attrs=prefer-standby` becomes libpq's two passes, every host as
    /// `standby`, then every host as `any`. The parameters are returned whole, for libpq to walk as it does, when
    /// there is one entry, when the lists do not pair up (libpq then reports the mismatch), and when an entry is
    /// empty (libpq's default host or port, which a copy cannot ask for: an empty value means "unset" to libpq).
    package var hostSequence: [ConnectionParameters] {
        let hosts = self["host"].map(Self.entries)
        let addresses = self["hostaddr"].map(Self.entries)
        let count = addresses?.count ?? hosts?.count ?? 1
        guard count > 1, hosts.map({ $0.count == count }) ?? true else { return [self] }
        let ports = self["port"].map(Self.entries)
        guard ports.map({ $0.count == 1 || $0.count == count }) ?? true else { return [self] }
        let lists = [hosts, addresses, ports].compactMap { $0 }
        guard lists.allSatisfy({ $0.allSatisfy { !$0.isEmpty } }) else { return [self] }

        var sequence = (0..<count).map { index in
            var entry = self
            if let hosts { entry["host"] = hosts[index] }
            if let addresses { entry["hostaddr"] = addresses[index] }
            if let ports { entry["port"] = ports.count == 1 ? ports[0] : ports[index] }
            return entry
        }
        // libpq 16 and later shuffle the hosts themselves (libpq 15 refuses the option).
        if self["load_balance_hosts"] == "random" {
            sequence.shuffle()
        }
        if self["target_session_attrs"] == "prefer-standby" {
            sequence = ["standby", "any"].flatMap { attributes in
                sequence.map { entry in
                    var entry = entry
                    entry["target_session_attrs"] = attributes
                    return entry
                }
            }
        }
        return sequence
    }

    /// How long a connect may wait for one host, as libpq's `connect_timeout` says (or `PGCONNECT_TIMEOUT` when the
    /// option is not set), or `defaultTimeout` when neither is given; nil for no limit of its own.
    ///
    /// libpq documents the timeout as applying "separately to each host name or IP address"; zero or less means
    /// none, and 1 means 2 seconds, its minimum.
    ///
    /// - Throws: ``TransportError`` with code ``TransportError/Code/invalidConnectionString`` when the value is not
    ///   an integer, as libpq's blocking connect (and so `psql`) refuses it.
    package func hostConnectTimeout(default defaultTimeout: Duration?) throws -> Duration? {
        // libpq takes an empty value for an option that is not set.
        let option = self["connect_timeout"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = option ?? ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] else {
            return defaultTimeout
        }
        guard let seconds = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TransportError(
                code: .invalidConnectionString,
                message: "invalid integer value \"\(text)\" for connection option \"connect_timeout\"",
                phase: .connecting,
                isConnectionUsable: false
            )
        }
        return seconds > 0 ? .seconds(max(seconds, 2)) : nil
    }

    /// The entries of a comma-separated libpq list. libpq splits on every comma and trims nothing.
    private static func entries(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
}
