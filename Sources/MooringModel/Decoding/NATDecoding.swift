/// Decoding a NAT manifest's spec and its port forwards.
extension ManifestDecoder {
    // MARK: NAT

    func decodeNAT(_ spec: MappingReader) -> NATSpec? {
        let external = interfaceName(spec.string("externalInterface"))
        if spec.take("externalInterface") == nil {
            reader.error(spec.node, spec.childPath("externalInterface"), "is required (the host interface traffic leaves by, e.g. eth0)")
        }
        let internals = (spec.stringList("internalInterfaces") ?? []).compactMap(interfaceName)
        if spec.take("internalInterfaces") == nil {
            reader.error(spec.node, spec.childPath("internalInterfaces"), "is required (the bridges to masquerade, e.g. [microvm])")
        }
        let enableIPv6 = spec.bool("enableIPv6")?.value ?? false
        var forwards: [ForwardPortSpec] = []
        for (node, path) in spec.sequence("forwardPorts") ?? [] {
            guard let forward = reader.mapping(node, path) else { continue }
            if let decoded = decodeForward(forward) { forwards.append(decoded) }
            forward.finish()
        }
        if let external {
            for name in internals where name.value == external.value {
                reader.error(at: name.location, name.path, "\"\(name.value)\" is also the externalInterface; traffic cannot be masqueraded onto the interface it came from")
            }
        }
        guard let external else { return nil }
        return NATSpec(externalInterface: external, internalInterfaces: internals, enableIPv6: enableIPv6,
                       forwardPorts: forwards)
    }

    func decodeForward(_ forward: MappingReader) -> ForwardPortSpec? {
        let proto = forward.oneOf("proto", TransportProtocol.self)
        if forward.take("proto") == nil { reader.error(forward.node, forward.childPath("proto"), "is required (tcp or udp)") }
        var sourcePort: PortRange?
        if let node = forward.require("sourcePort", "a port such as 80, or a range such as \"8000:8010\"") {
            sourcePort = portRange(node, forward.childPath("sourcePort"))
        }
        var destination: (IPAddress, Int?)?
        var destinationLocation = reader.location(of: forward.node)
        if let node = forward.require("destination", "where to send the traffic, e.g. 10.0.0.10:80 or [fd12::10]:80"),
           let text = reader.string(node, forward.childPath("destination")) {
            destinationLocation = text.location
            destination = Self.parseDestination(text.value)
            if destination == nil {
                reader.error(at: text.location, text.path,
                             "\"\(text.value.escapedForMessage)\" is not a destination (want address[:port], e.g. 10.0.0.10:80, 10.0.0.10 or [fd12::10]:80)")
            } else if let port = destination?.1, !(1...65535).contains(port) {
                reader.error(at: text.location, text.path, "port \(port) is out of range (want 1-65535)")
                destination = nil
            }
        }
        let loopback = forward.bool("loopback")?.value ?? false
        guard let proto, let sourcePort, let destination else { return nil }
        return ForwardPortSpec(proto: proto.value, sourcePort: sourcePort, destination: destination.0,
                               destinationPort: destination.1, loopback: loopback,
                               location: reader.location(of: forward.node), path: forward.path,
                               destinationLocation: destinationLocation)
    }

    func portRange(_ node: Node, _ path: String) -> PortRange? {
        guard reader.visit(node), case .scalar = node, let (text, _) = DocumentReader.scalarText(node) else {
            reader.error(node, path, "want a port such as 80 or a range such as \"8000:8010\", found \(DocumentReader.describe(node))")
            return nil
        }
        switch PortRange.parse(text) {
        case .success(let range): return range
        case .failure(.notAPort):
            reader.error(node, path, "\"\(text.escapedForMessage)\" is not a port or port range (want e.g. 80 or \"8000:8010\")")
        case .failure(.outOfRange):
            reader.error(node, path, "\"\(text.escapedForMessage)\": ports must be 1-65535")
        case .failure(.reversed):
            reader.error(node, path, "\"\(text.escapedForMessage)\": the range's first port is above its last")
        }
        return nil
    }

    /// `10.0.0.10:80`, `10.0.0.10`, `[fd12::10]:80`, `[fd12::10]` or a bare IPv6 address.
    static func parseDestination(_ text: String) -> (IPAddress, Int?)? {
        func port(_ digits: Substring) -> Int? {
            guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(digits)
        }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                  let address = IPAddress(String(text[text.index(after: text.startIndex)..<close])),
                  !address.isIPv4 else { return nil }
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (address, nil) }
            guard rest.hasPrefix(":"), let number = port(rest.dropFirst()) else { return nil }
            return (address, number)
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 1 {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let address = IPAddress(String(parts[0])), address.isIPv4, let number = port(parts[1]) else { return nil }
            return (address, number)
        }
        guard let address = IPAddress(text) else { return nil }
        return (address, nil)
    }
}
