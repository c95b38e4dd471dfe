import MooringModel
import MooringPlan

/// nftables JSON statements in exactly the form libnftables lists them back, so a built rule and an observed
/// one are equal values. One builder per expression, each a `JSONValue`.
enum NftExpressions {
    static func match(_ left: JSONValue, _ right: JSONValue, op: String = "==") -> JSONValue {
        ["match": ["op": .string(op), "left": left, "right": right]]
    }

    static func meta(_ key: String) -> JSONValue { ["meta": ["key": .string(key)]] }

    /// Protocols as numbers, the form libnftables lists them in with numeric protocol output.
    static func protocolNumber(_ proto: TransportProtocol) -> Int { proto == .tcp ? 6 : 17 }
    static func protocolName(_ number: Int) -> String { number == 6 ? "tcp" : number == 17 ? "udp" : String(number) }

    static var l4protoTCPorUDP: JSONValue { match(meta("l4proto"), ["set": [6, 17]]) }
    static func nfproto(_ family: IPAddress.Family) -> JSONValue { match(meta("nfproto"), family == .ipv4 ? "ipv4" : "ipv6") }
    static func iifname(_ name: String) -> JSONValue { match(meta("iifname"), .string(name)) }
    static func oifname(_ name: String) -> JSONValue { match(meta("oifname"), .string(name)) }
    static var localDestination: JSONValue { match(["fib": ["result": "type", "flags": ["daddr"]]], "local") }
    static var establishedOrRelated: JSONValue { match(["ct": ["key": "state"]], ["established", "related"], op: "in") }
    static var destinationNATed: JSONValue { match(["ct": ["key": "status"]], "dnat", op: "in") }

    static var accept: JSONValue { ["accept": .null] }
    static var drop: JSONValue { ["drop": .null] }
    static var masquerade: JSONValue { ["masquerade": .null] }

    /// The lookup key of a forward map: (iifname .) l4proto . th dport.
    static func forwardKey(byInterface: Bool) -> JSONValue {
        var parts: [JSONValue] = [meta("l4proto"), ["payload": ["protocol": "th", "field": "dport"]]]
        if byInterface { parts.insert(meta("iifname"), at: 0) }
        return ["concat": .array(parts)]
    }

    /// `dnat ip to KEY map @addr : KEY map @port` (or without the port: the packet keeps its own).
    static func dnat(_ family: IPAddress.Family, key: JSONValue, addressMap: String, portMap: String?) -> JSONValue {
        var body: [(key: String, value: JSONValue)] = [("family", family == .ipv4 ? "ip" : "ip6"),
                                                       ("addr", ["map": ["key": key, "data": .string("@\(addressMap)")]])]
        if let portMap { body.append(("port", ["map": ["key": key, "data": .string("@\(portMap)")]])) }
        return ["dnat": .object(body)]
    }

    /// A port or a range of ports, as a map key part.
    static func port(_ range: PortRange) -> JSONValue {
        range.isSingle ? JSONValue(range.lower) : ["range": [JSONValue(range.lower), JSONValue(range.upper)]]
    }
}
