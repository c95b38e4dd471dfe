/// Decoding a Bridge manifest's spec (the ports it makes decode in their kinds' files: `BridgePortKind`).
extension ManifestDecoder {
    // MARK: Bridge

    func decodeBridge(_ spec: MappingReader) -> BridgeSpec? {
        var bridge = BridgeSpec()
        bridge.addresses = (spec.stringList("addresses") ?? []).compactMap(cidr)
        bridge.mtu = spec.int("mtu", range: 68...65535)
        bridge.ports = (spec.stringList("ports") ?? []).compactMap(interfaceName)
        bridge.madePorts = decodeBridgePorts(spec)
        bridge.routes = decodeRoutes(spec, addresses: bridge.addresses.map(\.value))
        bridge.acceptRA = spec.bool("acceptRA")?.value
        if let nameservers = spec.mapping("nameservers") {
            bridge.nameservers = decodeNameservers(nameservers)
            nameservers.finish()
        }
        bridge.dhcpServer = decodeDHCPServer(spec, addresses: bridge.addresses.map(\.value))
        bridge.ipv6SendRA = decodeRouterAdvertisements(spec, addresses: bridge.addresses.map(\.value))
        if let advertisements = bridge.ipv6SendRA, bridge.acceptRA == true {
            reader.error(at: advertisements.location, advertisements.path,
                         "a bridge that sends router advertisements takes none: remove spec.acceptRA: true (it is set to 0 for this bridge)")
        }
        return bridge
    }

    /// `dhcpServer: true`, or `{leaseTime: 12h, pool: {start, end}, dnsServers: [...]}`. The bridge must have an
    /// IPv4 address to serve from, and a pool must lie in its subnet.
    func decodeDHCPServer(_ spec: MappingReader, addresses: [CIDR]) -> Located<DHCPServer>? {
        guard let node = spec.take("dhcpServer") else { return nil }
        let path = spec.childPath("dhcpServer")
        var server = DHCPServer()
        if case .mapping = node {
            guard let fields = reader.mapping(node, path) else { return nil }
            defer { fields.finish() }
            if let lease = fields.string("leaseTime") {
                if DHCPServer.isLeaseTime(lease.value) { server.leaseTime = lease.value } else {
                    reader.error(at: lease.location, lease.path, "\"\(lease.value.escapedForMessage)\" is not a lease time of at least two minutes (want e.g. 30m, 12h, 7d or infinite)")
                }
            }
            server.dnsServers = (fields.stringList("dnsServers") ?? []).compactMap { ipAddress($0)?.value }
            if let pool = fields.mapping("pool") {
                let start = ipAddress(pool.string("start")), end = ipAddress(pool.string("end"))
                if pool.take("start") == nil && start == nil { reader.error(pool.node, pool.childPath("start"), "is required (the pool's first address)") }
                if pool.take("end") == nil && end == nil { reader.error(pool.node, pool.childPath("end"), "is required (the pool's last address)") }
                if let start, let end {
                    if let subnet = addresses.first(where: { $0.address.isIPv4 && $0.contains(start.value) }), subnet.contains(end.value), start.value <= end.value {
                        server.pool = DHCPServer.Pool(start: start.value, end: end.value)
                    } else {
                        let subnets = addresses.filter(\.address.isIPv4).map(\.description)
                        reader.error(at: start.location, pool.path, "\(start.value)-\(end.value) is not a range inside one of the bridge's IPv4 subnets (\(subnets.isEmpty ? "it has none" : subnets.joined(separator: ", ")))")
                    }
                }
                pool.finish()
            }
        } else {
            guard let flag = reader.bool(node, path), flag.value else { return nil }
        }
        let location = reader.location(of: node)
        if !addresses.contains(where: \.address.isIPv4) {
            reader.error(at: location, path, "the bridge has no IPv4 address to serve DHCP from: add one to spec.addresses (e.g. 10.0.0.1/24)")
            return nil
        }
        return Located(server, at: location, path: path)
    }

    /// `ipv6SendRA: true`, or `{dnsServers: [...]}`. SLAAC needs a /64: the bridge must have an IPv6 /64 to announce.
    func decodeRouterAdvertisements(_ spec: MappingReader, addresses: [CIDR]) -> Located<RouterAdvertisements>? {
        guard let node = spec.take("ipv6SendRA") else { return nil }
        let path = spec.childPath("ipv6SendRA")
        var advertisements = RouterAdvertisements()
        if case .mapping = node {
            guard let fields = reader.mapping(node, path) else { return nil }
            defer { fields.finish() }
            advertisements.dnsServers = (fields.stringList("dnsServers") ?? []).compactMap { ipAddress($0)?.value }
        } else {
            guard let flag = reader.bool(node, path), flag.value else { return nil }
        }
        let location = reader.location(of: node)
        if !addresses.contains(where: { !$0.address.isIPv4 && !$0.address.isLinkLocal && $0.prefixLength == 64 }) {
            reader.error(at: location, path, "the bridge has no IPv6 /64 to announce (SLAAC needs a /64): add one to spec.addresses (e.g. fd00:1::1/64)")
            return nil
        }
        return Located(advertisements, at: location, path: path)
    }

    /// `nameservers: {addresses: [192.0.2.53], search: [lan]}`, as netplan spells it.
    func decodeNameservers(_ spec: MappingReader) -> Nameservers {
        var result = Nameservers()
        let addresses = spec.stringList("addresses") ?? [], search = spec.stringList("search") ?? []
        for address in addresses.compactMap({ ipAddress($0) }) {
            if result.addresses.contains(address.value) {
                reader.error(at: address.location, address.path, "\(address.value) is listed twice")
            } else {
                result.addresses.append(address.value)
            }
        }
        for domain in search {
            if Nameservers.isValidDomain(domain.value) {
                result.search.append(domain.value)
            } else {
                reader.error(at: domain.location, domain.path, "\(domain.value) is not a DNS domain (labels of letters, digits and hyphens, e.g. lan or example.com)")
            }
        }
        if addresses.isEmpty && search.isEmpty {
            reader.error(spec.node, spec.path, "needs addresses (DNS servers) or search (domains); remove it to set no DNS")
        }
        return result
    }

    /// `gateways: [192.0.2.1, 2001:db8::1]` (a default route through each) and `routes: [{to, via, metric, table}]`.
    func decodeRoutes(_ spec: MappingReader, addresses: [CIDR]) -> [DesiredRoute] {
        var routes: [DesiredRoute] = []
        func add(_ route: DesiredRoute, at location: SourceLocation, _ path: String) {
            // The kernel refuses a gateway it cannot reach on the link (ENETUNREACH): say so now.
            if let gateway = route.gateway, !(gateway.family == .ipv6 && gateway.isLinkLocal),
               !addresses.contains(where: { $0.contains(gateway) }) {
                let subnets = addresses.filter { $0.address.family == gateway.family }.map(\.description)
                reader.error(at: location, path, "gateway \(gateway) is not in the bridge's subnets (\(subnets.isEmpty ? "it has no \(gateway.isIPv4 ? "IPv4" : "IPv6") address" : subnets.joined(separator: ", "))): "
                             + "the kernel refuses a route through a gateway it cannot reach on the link")
                return
            }
            if routes.contains(where: { $0.sameKey(as: route) }) {
                reader.error(at: location, path, "a second route to \(route.isDefault ? "default" : route.destination.description) "
                             + "with the same metric and table (give one, or a different metric)")
            } else {
                routes.append(route)
            }
        }
        for gateway in (spec.stringList("gateways") ?? []).compactMap({ ipAddress($0) }) {
            let any = CIDR(address: IPAddress(family: gateway.value.family, bytes: [UInt8](repeating: 0, count: gateway.value.isIPv4 ? 4 : 16)), prefixLength: 0)
            add(DesiredRoute(destination: any, gateway: gateway.value), at: gateway.location, gateway.path)
        }
        for (node, path) in spec.sequence("routes") ?? [] {
            guard let entry = reader.mapping(node, path) else { continue }
            defer { entry.finish() }
            let to = entry.string("to")
            let via = ipAddress(entry.string("via"))
            let metric = entry.int("metric", range: 0...Int(UInt32.max))
            let table = entry.int("table", range: 1...Int(UInt32.max))
            guard let to else {
                reader.error(entry.node, entry.childPath("to"), "is required (a destination in CIDR form, or default)")
                continue
            }
            var destination: CIDR?
            if to.value == "default" || to.value == "default6" {
                let v6 = to.value == "default6" || via?.value.isIPv4 == false
                destination = CIDR(address: IPAddress(family: v6 ? .ipv6 : .ipv4, bytes: [UInt8](repeating: 0, count: v6 ? 16 : 4)), prefixLength: 0)
            } else {
                destination = cidr(to)?.value
            }
            guard let destination else { continue }
            if let via, via.value.family != destination.address.family {
                reader.error(at: via.location, via.path, "\(via.value) and \(to.value) are of different address families")
                continue
            }
            if via == nil && destination.prefixLength == 0 {
                reader.error(at: to.location, entry.childPath("via"), "is required for a default route (the gateway's address)")
                continue
            }
            add(DesiredRoute(destination: destination, gateway: via?.value, metric: metric?.value ?? 0,
                             table: table?.value ?? DesiredRoute.mainTable), at: to.location, to.path)
        }
        return routes
    }
}
