import MooringModel
import MooringPlan

/// Reads the forwards back out of a table's maps, one readable line each, for rule-level plan details.
enum ForwardListing {
    static func lines(_ table: NftTable) -> [String] {
        let maps = Dictionary(table.maps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        for map in table.maps.sorted(by: { $0.name < $1.name }) {
            let parts = map.name.split(separator: "_")
            guard parts.count == 2, ["addr", "keep"].contains(parts[1]) else { continue }
            let loopback = parts[0].hasPrefix("lo")
            let ports = maps["\(parts[0])_port"].map {
                Dictionary($0.elements.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            } ?? [:]
            for element in map.elements {
                // An element mooring would not write is still shown, as libnftables has it.
                guard let value = text(element.value), let described = describe(key: element.key) else {
                    lines.append("forward \(element.json.canonicalText)")
                    continue
                }
                var destination = value
                if parts[1] == "addr", let port = ports[element.key].flatMap(text) {
                    destination = value.contains(":") ? "[\(value)]:\(port)" : "\(value):\(port)"
                }
                lines.append(line(proto: described.proto, port: described.port, destination: destination,
                                  interface: loopback ? nil : described.interface ?? "?"))
            }
        }
        return lines.sorted()
    }

    /// One forward as the plan shows it; `interface` nil means a loopback forward.
    static func line(proto: String, port: String, destination: String, interface: String?) -> String {
        "forward \(proto) \(port) -> \(destination) (\(interface.map { "on \($0)" } ?? "from this host"))"
    }

    /// The lines for the forwards the manifests declare, straight from them (the same text `lines(_:)` reads
    /// back from a table, without parsing its elements).
    static func lines(_ nats: [DesiredNAT]) -> [String] {
        var lines: [String] = []
        for nat in nats {
            for forward in nat.forwards {
                let destination = forward.destinationPort.map {
                    forward.destination.isIPv4 ? "\(forward.destination):\($0)" : "[\(forward.destination)]:\($0)"
                } ?? forward.destination.description
                let port = forward.sourcePort.description
                lines.append(line(proto: forward.proto.rawValue, port: port, destination: destination, interface: nat.externalInterface))
                if forward.loopback {
                    lines.append(line(proto: forward.proto.rawValue, port: port, destination: destination, interface: nil))
                }
            }
        }
        return lines.sorted()
    }

    /// A map value (an address or a port) as text.
    private static func text(_ value: JSONValue) -> String? { value.string ?? value.int.map(String.init) }

    private static func describe(key: JSONValue) -> (interface: String?, proto: String, port: String)? {
        guard let parts = key["concat"]?.array, parts.count >= 2 else { return nil }
        let interface = parts.count == 3 ? parts[0].string : nil
        let protoPart = parts[parts.count - 2]
        guard let proto = protoPart.int.map(NftExpressions.protocolName) ?? protoPart.string else { return nil }
        let portPart = parts[parts.count - 1]
        let port: String
        if let single = portPart.int { port = String(single) }
        else if let range = portPart["range"]?.array?.compactMap(\.int), range.count == 2 { port = "\(range[0])-\(range[1])" }
        else { return nil }
        return (interface, proto, port)
    }
}
