import Foundation
import MooringModel
import MooringPlan

/// nftables JSON expressions in exactly the form libnftables lists them back, so a built rule and an
/// observed one compare equal as canonical JSON.
enum NftExpressions {
    typealias JSON = [String: Any]

    static func match(_ left: JSON, _ right: Any, op: String = "==") -> JSON {
        ["match": ["op": op, "left": left, "right": right]]
    }

    static func meta(_ key: String) -> JSON { ["meta": ["key": key]] }

    /// Protocols as numbers, the form libnftables lists them in with numeric protocol output.
    static func protocolNumber(_ proto: TransportProtocol) -> Int { proto == .tcp ? 6 : 17 }
    static func protocolName(_ number: Int) -> String { number == 6 ? "tcp" : number == 17 ? "udp" : String(number) }

    static var l4protoTCPorUDP: JSON { match(meta("l4proto"), ["set": [6, 17]]) }
    static func nfproto(_ family: IPAddress.Family) -> JSON { match(meta("nfproto"), family == .ipv4 ? "ipv4" : "ipv6") }
    static func iifname(_ name: String) -> JSON { match(meta("iifname"), name) }
    static func oifname(_ name: String) -> JSON { match(meta("oifname"), name) }
    static var localDestination: JSON { match(["fib": ["result": "type", "flags": ["daddr"]]], "local") }
    static var establishedOrRelated: JSON { match(["ct": ["key": "state"]], ["established", "related"], op: "in") }
    static var destinationNATed: JSON { match(["ct": ["key": "status"]], "dnat", op: "in") }

    static var accept: JSON { ["accept": NSNull()] }
    static var drop: JSON { ["drop": NSNull()] }
    static var masquerade: JSON { ["masquerade": NSNull()] }

    /// The lookup key of a forward map: (iifname .) l4proto . th dport.
    static func forwardKey(byInterface: Bool) -> JSON {
        var parts: [Any] = [meta("l4proto"), ["payload": ["protocol": "th", "field": "dport"]]]
        if byInterface { parts.insert(meta("iifname"), at: 0) }
        return ["concat": parts]
    }

    /// `dnat ip to KEY map @addr : KEY map @port` (or without the port: the packet keeps its own).
    static func dnat(_ family: IPAddress.Family, key: JSON, addressMap: String, portMap: String?) -> JSON {
        var body: JSON = ["family": family == .ipv4 ? "ip" : "ip6",
                          "addr": ["map": ["key": key, "data": "@\(addressMap)"]]]
        if let portMap { body["port"] = ["map": ["key": key, "data": "@\(portMap)"]] }
        return ["dnat": body]
    }
}

