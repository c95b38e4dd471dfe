import MooringModel

/// dnsmasq's configuration for one bridge's services, from the manifests alone: static DHCPv4 leases, one per
/// declared guest MAC and address on the bridge (router and DNS from the guest's interface, else the bridge's
/// server settings), a dynamic pool only when one is declared, and router advertisements of the bridge's /64
/// prefixes with its DNS servers (RDNSS). DNS serving is off (`port=0`): dnsmasq answers DHCP and sends RAs only.
enum DnsmasqConfig {
    /// A guest interface on the bridge, as the lease needs it.
    struct Guest: Equatable {
        var name: String
        var mac: MACAddress
        var addresses: [CIDR]
        var gateways: [IPAddress]
        var nameservers: Nameservers?
    }

    static func render(_ bridge: DesiredBridge, guests: [Guest]) -> String {
        var lines = ["# Written by mooring for bridge \(bridge.name) from its manifests; mooring restarts dnsmasq when it changes.",
                     "interface=\(bridge.name)", "bind-interfaces", "port=0", "no-resolv", "no-hosts", "leasefile-ro",
                     "log-facility=-", "pid-file="]
        let subnets = bridge.addresses.filter(\.address.isIPv4)
        if let server = bridge.dhcpServer {
            lines.append("dhcp-authoritative")
            for subnet in subnets {
                lines.append("dhcp-range=\(subnet.network),static,\(subnet.netmask),\(server.leaseTime)")
            }
            if let pool = server.pool, let subnet = subnets.first(where: { $0.contains(pool.start) }) {
                lines.append("dhcp-range=set:pool,\(pool.start),\(pool.end),\(subnet.netmask),\(server.leaseTime)")
                lines.append("dhcp-option=tag:pool,option:router,\(subnet.address)")
                if !server.dnsServers.isEmpty {
                    lines.append("dhcp-option=tag:pool,option:dns-server,\(server.dnsServers.filter(\.isIPv4).map(\.description).joined(separator: ","))")
                }
            }
            for (index, guest) in guests.enumerated() {
                guard let address = guest.addresses.first(where: { cidr in subnets.contains { $0.contains(cidr.address) } }) else { continue }
                let tag = "guest\(index)"
                lines.append("dhcp-host=\(guest.mac),set:\(tag),\(address.address),\(guest.name),\(server.leaseTime)")
                if let router = guest.gateways.first(where: \.isIPv4) { lines.append("dhcp-option=tag:\(tag),option:router,\(router)") }
                let dns = (guest.nameservers?.addresses.filter(\.isIPv4)).flatMap { $0.isEmpty ? nil : $0 } ?? server.dnsServers.filter(\.isIPv4)
                if !dns.isEmpty { lines.append("dhcp-option=tag:\(tag),option:dns-server,\(dns.map(\.description).joined(separator: ","))") }
                if let search = guest.nameservers?.search, !search.isEmpty {
                    lines.append("dhcp-option=tag:\(tag),option:domain-search,\(search.joined(separator: ","))")
                }
            }
        }
        if let advertisements = bridge.ipv6SendRA {
            // SLAAC on each /64 of the bridge (`constructor:` takes the prefixes from the bridge's own addresses);
            // the bridge is the default router; no managed or other flag: addresses come from SLAAC, DNS from RDNSS.
            lines += ["enable-ra", "dhcp-range=::,constructor:\(bridge.name),ra-only,64,\(bridge.dhcpServer?.leaseTime ?? DHCPServer.defaultLeaseTime)"]
            if !advertisements.dnsServers.isEmpty {
                lines.append("dhcp-option=option6:dns-server,\(advertisements.dnsServers.filter { !$0.isIPv4 }.map { "[\($0)]" }.joined(separator: ","))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
