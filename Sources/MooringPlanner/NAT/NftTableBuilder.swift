import MooringModel
import MooringPlan

/// Builds the `inet mooring` table the NAT manifests imply. Pure; deterministic for equal inputs.
///
/// Forwards live in maps keyed by `iifname . l4proto . dport` (interval maps, so ranges are one element),
/// looked up by one rule per address family: a packet's cost does not grow with the number of forwards, and
/// a thousand forwards are one small transaction. libnftables 1.0.6 cannot create maps with concatenated
/// data (`addr . port`) from JSON, so the address and the port come from two maps with the same key.
public enum NftTableBuilder {
    public static func table(for nats: [DesiredNAT]) -> NftTable? {
        guard !nats.isEmpty else { return nil }
        var table = NftTable()
        var maps = MapSet()
        for nat in nats {
            for forward in nat.forwards {
                maps.add(forward, external: nat.externalInterface)
            }
        }

        table.chains.append(NftChain(name: "postrouting", type: "nat", hook: "postrouting", priority: 100))
        for nat in nats {
            let tag = nat.origin.reference
            for bridge in nat.internalInterfaces {
                for family in families(nat) {
                    table.rules.append(rule("postrouting", "\(tag): masquerade \(familyName(family)) \(bridge) -> \(nat.externalInterface)",
                                            [NftExpressions.nfproto(family), NftExpressions.iifname(bridge),
                                             NftExpressions.oifname(nat.externalInterface), NftExpressions.masquerade]))
                }
            }
        }

        if maps.hasInbound {
            table.chains.append(NftChain(name: "prerouting", type: "nat", hook: "prerouting", priority: -100))
            table.rules += maps.lookupRules(chain: "prerouting", scope: .inbound, extraMatch: nil)
        }
        if maps.hasLoopback {
            table.chains.append(NftChain(name: "output", type: "nat", hook: "output", priority: -100))
            table.rules += maps.lookupRules(chain: "output", scope: .loopback, extraMatch: NftExpressions.localDestination)
        }
        table.maps = maps.maps

        table.chains.append(NftChain(name: "forward", type: "filter", hook: "forward", priority: 0))
        table.rules.append(rule("forward", "mooring: replies to established connections",
                                [NftExpressions.establishedOrRelated, NftExpressions.accept]))
        table.rules.append(rule("forward", "mooring: port-forwarded connections",
                                [NftExpressions.destinationNATed, NftExpressions.accept]))
        for nat in nats {
            let tag = nat.origin.reference
            for bridge in nat.internalInterfaces {
                table.rules.append(rule("forward", "\(tag): allow \(bridge) -> \(nat.externalInterface)",
                                        [NftExpressions.iifname(bridge), NftExpressions.oifname(nat.externalInterface),
                                         NftExpressions.accept]))
            }
            for bridge in nat.internalInterfaces {
                table.rules.append(rule("forward", "\(tag): only forwards and replies enter \(bridge) from \(nat.externalInterface)",
                                        [NftExpressions.iifname(nat.externalInterface), NftExpressions.oifname(bridge),
                                         NftExpressions.drop]))
            }
        }
        return table
    }

    static func families(_ nat: DesiredNAT) -> [IPAddress.Family] { nat.enableIPv6 ? [.ipv4, .ipv6] : [.ipv4] }
    static func familyName(_ family: IPAddress.Family) -> String { family == .ipv4 ? "ipv4" : "ipv6" }

    static func rule(_ chain: String, _ comment: String, _ statements: [JSONValue]) -> NftRule {
        NftRule(chain: chain, comment: comment, expression: .array(statements))
    }
}

/// The forward maps, filled forward by forward.
struct MapSet {
    enum Scope: String { case inbound = "fwd", loopback = "lo" }

    private var elements: [String: [NftMapElement]] = [:]
    private var keyTypes: [String: [String]] = [:]
    private var dataTypes: [String: String] = [:]

    var hasInbound: Bool { elements.keys.contains { $0.hasPrefix("fwd") } }
    var hasLoopback: Bool { elements.keys.contains { $0.hasPrefix("lo") } }

    static func name(_ scope: Scope, _ family: IPAddress.Family, _ part: String) -> String {
        "\(scope.rawValue)\(family == .ipv4 ? 4 : 6)_\(part)"
    }

    mutating func add(_ forward: DesiredForward, external: String) {
        var scopes: [Scope] = [.inbound]
        if forward.loopback { scopes.append(.loopback) }
        for scope in scopes {
            let family = forward.destination.family
            var parts: [JSONValue] = [JSONValue(NftExpressions.protocolNumber(forward.proto)), NftExpressions.port(forward.sourcePort)]
            var keyType = ["inet_proto", "inet_service"]
            if scope == .inbound {
                parts.insert(.string(external), at: 0)
                keyType.insert("ifname", at: 0)
            }
            let key: JSONValue = ["concat": .array(parts)]
            let addressType = family == .ipv4 ? "ipv4_addr" : "ipv6_addr"
            let address = JSONValue.string(forward.destination.description)
            if let port = forward.destinationPort {
                insert(Self.name(scope, family, "addr"), keyType, addressType, NftMapElement(key: key, value: address))
                insert(Self.name(scope, family, "port"), keyType, "inet_service", NftMapElement(key: key, value: JSONValue(port)))
            } else {
                insert(Self.name(scope, family, "keep"), keyType, addressType, NftMapElement(key: key, value: address))
            }
        }
    }

    private mutating func insert(_ map: String, _ keyType: [String], _ dataType: String, _ element: NftMapElement) {
        keyTypes[map] = keyType
        dataTypes[map] = dataType
        elements[map, default: []].append(element)
    }

    var maps: [NftMap] {
        elements.keys.sorted().map { name in
            NftMap(name: name, keyType: keyTypes[name]!, dataType: dataTypes[name]!, flags: ["interval"], elements: elements[name]!)
        }
    }

    /// One DNAT rule per address family and map pair present.
    func lookupRules(chain: String, scope: Scope, extraMatch: JSONValue?) -> [NftRule] {
        var rules: [NftRule] = []
        for family in [IPAddress.Family.ipv4, .ipv6] {
            let key = NftExpressions.forwardKey(byInterface: scope == .inbound)
            var lead: [JSONValue] = [NftExpressions.nfproto(family)]
            if let extraMatch { lead.append(extraMatch) }
            lead.append(NftExpressions.l4protoTCPorUDP)
            let name = NftTableBuilder.familyName(family)
            let what = scope == .inbound ? "port forwards" : "port forwards from this host"
            if elements[Self.name(scope, family, "addr")] != nil {
                rules.append(NftTableBuilder.rule(chain, "mooring: \(what) (\(name))", lead + [
                    NftExpressions.dnat(family, key: key, addressMap: Self.name(scope, family, "addr"),
                                        portMap: Self.name(scope, family, "port"))]))
            }
            if elements[Self.name(scope, family, "keep")] != nil {
                rules.append(NftTableBuilder.rule(chain, "mooring: \(what) keeping the port (\(name))", lead + [
                    NftExpressions.dnat(family, key: key, addressMap: Self.name(scope, family, "keep"), portMap: nil)]))
            }
        }
        return rules
    }
}
