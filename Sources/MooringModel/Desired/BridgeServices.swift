/// What a bridge serves its guests, as systemd-networkd names it (`DHCPServer=`, `IPv6SendRA=`): a DHCPv4
/// server and IPv6 router advertisements, run by dnsmasq in a unit mooring owns per bridge (docs/bridges.md).
public struct DHCPServer: Sendable, Codable, Equatable {
    /// dnsmasq's form: a number with `s`, `m`, `h`, `d` or `w`, or `infinite`.
    public var leaseTime: String = DHCPServer.defaultLeaseTime
    /// A dynamic pool for clients no manifest declares; off by default (leases are static, one per declared
    /// guest MAC and address).
    public var pool: Pool?
    /// DNS servers for guests whose interface declares none.
    public var dnsServers: [IPAddress] = []

    public static let defaultLeaseTime = "1h"

    public struct Pool: Sendable, Codable, Equatable {
        public var start: IPAddress
        public var end: IPAddress
        public init(start: IPAddress, end: IPAddress) { self.start = start; self.end = end }
    }

    public init(leaseTime: String = DHCPServer.defaultLeaseTime, pool: Pool? = nil, dnsServers: [IPAddress] = []) {
        self.leaseTime = leaseTime
        self.pool = pool
        self.dnsServers = dnsServers
    }

    /// `90s`, `30m`, `12h`, `7d`, `1w`, `infinite`; dnsmasq refuses less than two minutes.
    public static func isLeaseTime(_ text: String) -> Bool {
        if text == "infinite" { return true }
        guard let unit = text.last, "smhdw".contains(unit), let value = Int(text.dropLast()), value > 0 else { return false }
        let seconds = value * ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800][String(unit)]!
        return seconds >= 120
    }
}

/// IPv6 router advertisements on a bridge: its /64 prefixes for SLAAC, itself as the default router, and DNS
/// servers (RDNSS).
public struct RouterAdvertisements: Sendable, Codable, Equatable {
    public var dnsServers: [IPAddress] = []
    public init(dnsServers: [IPAddress] = []) { self.dnsServers = dnsServers }
}
