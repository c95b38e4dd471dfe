
/// Decodes one YAML document into a `Manifest`, checking each field's own syntax.
/// Checks that need other documents (references, duplicates) live in `ManifestSetValidator`.
struct ManifestDecoder {
    let reader: DocumentReader
    let root: Node

    static let namePattern = "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"

    func decode() -> Manifest? {
        guard let document = reader.mapping(root, "") else { return nil }
        defer { document.finish() }

        var kind: ManifestKind?
        if let apiVersion = document.require("apiVersion", "set it to \(ManifestKind.apiVersion)"),
           let text = reader.string(apiVersion, "apiVersion"), text.value != ManifestKind.apiVersion {
            reader.error(apiVersion, "apiVersion",
                         "unknown apiVersion \"\(text.value.escapedForMessage)\" (want \(ManifestKind.apiVersion))")
        }
        let kindNode = document.require("kind", "one of \(ManifestKind.allCases.map(\.rawValue).joined(separator: ", "))")
        if let kindNode { kind = reader.oneOf(kindNode, "kind", ManifestKind.self)?.value }

        var name: Located<String>?
        var labels: [String: String] = [:]
        if let metadata = document.mapping("metadata") {
            if let nameNode = metadata.require("name", "every document needs metadata.name") {
                name = reader.string(nameNode, "metadata.name")
            }
            if let kind, let name { reader.subject = "\(kind.rawValue) \"\(name.value.escapedForMessage)\"" }
            if let labelNode = metadata.take("labels") { labels = decodeLabels(labelNode, "metadata.labels") }
            metadata.finish()
        } else if document.entries.contains(where: { $0.key == "metadata" }) == false {
            reader.error(root, "metadata", "is required (every document needs metadata.name)")
        }
        guard let kind, let name else {
            _ = document.take("spec")
            return nil
        }
        reader.subject = "\(kind.rawValue) \"\(name.value.escapedForMessage)\""
        checkName(name, kind: kind)

        let specNode = document.take("spec")
        let spec: MappingReader
        if let specNode {
            guard let mapping = reader.mapping(specNode, "spec") else { return nil }
            spec = mapping
        } else if kind == .host {
            // A Host document may leave everything at its defaults.
            spec = MappingReader(reader: reader, node: .mapping([], Mark(line: 1, column: 1)), path: "spec")
        } else {
            reader.error(root, "spec", "is required")
            return nil
        }
        defer { spec.finish() }

        let hosts = spec.stringList("hosts")
        for host in hosts ?? [] where host.value.isEmpty || host.value.utf8.count > 253 {
            reader.error(at: host.location, host.path, "is not a host name")
        }
        let hostSelector = spec.take("hostSelector").map { decodeLabels($0, "spec.hostSelector") }
        let origin = ManifestOrigin(kind: kind, name: name.value, location: reader.location(of: root))
        let decoded: ManifestSpec?
        switch kind {
        case .host: decoded = decodeHost(spec).map(ManifestSpec.host)
        case .bridge: decoded = decodeBridge(spec).map(ManifestSpec.bridge)
        case .nat: decoded = decodeNAT(spec).map(ManifestSpec.nat)
        case .microVM: decoded = decodeMicroVM(spec).map(ManifestSpec.microVM)
        }
        guard let decoded else { return nil }
        return Manifest(origin: origin, labels: labels, nameLocation: name.location, hosts: hosts, hostSelector: hostSelector,
                        spec: decoded)
    }

    // MARK: Names and labels

    private func checkName(_ name: Located<String>, kind: ManifestKind) {
        if kind == .bridge {
            // A Bridge's name is its kernel link name.
            if let problem = InterfaceName.problem(with: name.value) {
                reader.error(at: name.location, "metadata.name", "\"\(name.value.escapedForMessage)\" \(problem)")
            }
            return
        }
        if !Self.isDNSLabel(name.value) {
            reader.error(at: name.location, "metadata.name",
                         "\"\(name.value.escapedForMessage)\" is not a valid name (want \(Self.namePattern), e.g. web-1)")
        }
    }

    /// A valid MicroVM/NAT/Host name: also what every path and unit name derived from a name may contain.
    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func ok(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
        return ok(bytes.first!) && ok(bytes.last!) && bytes.allSatisfy { ok($0) || $0 == 0x2d }
    }

    private func decodeLabels(_ node: Node, _ path: String) -> [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in reader.stringMap(node, path) ?? [] {
            if !Self.isLabelText(key.value, allowSlash: true) || key.value.isEmpty {
                reader.error(at: key.location, key.path,
                             "\"\(key.value.escapedForMessage)\" is not a label key (want letters, digits, '-', '_', '.', '/', at most 63)")
            } else if !Self.isLabelText(value.value, allowSlash: false) {
                reader.error(at: value.location, value.path,
                             "\"\(value.value.escapedForMessage)\" is not a label value (want letters, digits, '-', '_', '.', at most 63)")
            } else {
                labels[key.value] = value.value
            }
        }
        return labels
    }

    private static func isLabelText(_ text: String, allowSlash: Bool) -> Bool {
        text.utf8.count <= (allowSlash ? 253 : 63) && text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_" || scalar == "." || (allowSlash && scalar == "/"))
        }
    }

    // MARK: Shared field readers

    /// A kernel interface name a manifest refers to (existing or created by mooring).
    func interfaceName(_ located: Located<String>?) -> Located<String>? {
        guard let located else { return nil }
        if let problem = InterfaceName.problem(with: located.value) {
            reader.error(at: located.location, located.path,
                         "\"\(located.value.escapedForMessage)\" is not a valid interface name: \(problem)")
            return nil
        }
        return located
    }

    func cidr(_ located: Located<String>) -> Located<CIDR>? {
        if let cidr = CIDR(located.value) { return located.map { _ in cidr } }
        reader.error(at: located.location, located.path, CIDR.problem(with: located.value)!)
        return nil
    }

    func ipAddress(_ located: Located<String>?) -> Located<IPAddress>? {
        guard let located else { return nil }
        if let address = IPAddress(located.value) { return located.map { _ in address } }
        reader.error(at: located.location, located.path,
                     "\"\(located.value.escapedForMessage)\" is not an IP address (want e.g. 192.0.2.1 or 2001:db8::1)")
        return nil
    }

    func absolutePath(_ located: Located<String>) -> Located<String>? {
        guard located.value.hasPrefix("/") else {
            reader.error(at: located.location, located.path,
                         "\"\(located.value.escapedForMessage)\" is not an absolute path (want e.g. /var/lib/mooring/vmlinux)")
            return nil
        }
        if located.value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            reader.error(at: located.location, located.path, "path contains a control character")
            return nil
        }
        return located
    }

    // MARK: Host

    private func decodeHost(_ spec: MappingReader) -> HostSpec? {
        HostSpec(parentInterface: interfaceName(spec.string("parentInterface")),
                 defaultBridge: interfaceName(spec.string("defaultBridge")),
                 vmm: spec.oneOf("vmm", VMMKind.self),
                 accelerator: spec.oneOf("accelerator", Accelerator.self))
    }

    // MARK: Bridge

    private func decodeBridge(_ spec: MappingReader) -> BridgeSpec? {
        var bridge = BridgeSpec()
        bridge.addresses = (spec.stringList("addresses") ?? []).compactMap(cidr)
        bridge.mtu = spec.int("mtu", range: 68...65535)
        bridge.ports = (spec.stringList("ports") ?? []).compactMap(interfaceName)
        if let vxlan = spec.mapping("vxlan") {
            bridge.vxlan = decodeVxlan(vxlan)
            vxlan.finish()
        }
        if let vlan = spec.mapping("vlan") {
            let parent = interfaceName(vlan.string("parent"))
            let id = vlan.int("id", range: 1...4094)
            if vlan.take("parent") == nil { reader.error(vlan.node, vlan.childPath("parent"), "is required (the host interface the VLAN rides on, e.g. eth0)") }
            if vlan.take("id") == nil { reader.error(vlan.node, vlan.childPath("id"), "is required (the 802.1Q VLAN id, 1-4094)") }
            if let parent, let id {
                bridge.vlan = VlanSpec(parent: parent, id: id, location: reader.location(of: vlan.node))
            }
            vlan.finish()
        }
        return bridge
    }

    private func decodeVxlan(_ vxlan: MappingReader) -> VxlanSpec? {
        let vni = vxlan.int("vni", range: 1...16_777_215)
        if vxlan.take("vni") == nil {
            reader.error(vxlan.node, vxlan.childPath("vni"), "is required (the VXLAN network identifier, 1-16777215)")
        }
        let local = ipAddress(vxlan.string("local"))
        let remote = ipAddress(vxlan.string("remote"))
        let group = ipAddress(vxlan.string("group"))
        let dstPort = vxlan.int("dstPort", range: 1...65535)
        let device = interfaceName(vxlan.string("device"))
        let here = reader.location(of: vxlan.node)
        if let remote, let group {
            reader.error(at: group.location, group.path, "set either remote (unicast peer) or group (multicast), not both")
            _ = remote
        } else if vxlan.take("remote") == nil && vxlan.take("group") == nil {
            reader.error(at: here, vxlan.path, "needs remote (the peer's address) or group (a multicast group)")
        }
        if let remote, remote.value.isMulticast {
            reader.error(at: remote.location, remote.path, "\(remote.value) is a multicast address; use group for multicast")
        }
        if let group, !group.value.isMulticast {
            reader.error(at: group.location, group.path, "\(group.value) is not a multicast address (want e.g. 239.1.1.1)")
        }
        if let group, group.value.isMulticast, device == nil {
            reader.error(at: group.location, vxlan.childPath("device"), "is required with group (the underlay interface to join the group on)")
        }
        if let local, let peer = remote ?? group, local.value.family != peer.value.family {
            reader.error(at: local.location, local.path, "local \(local.value) and \(peer.path.split(separator: ".").last!) \(peer.value) are of different address families")
        }
        guard let vni else { return nil }
        return VxlanSpec(vni: vni, local: local, remote: remote, group: group, dstPort: dstPort?.value ?? 4789,
                         device: device, location: here)
    }

    // MARK: NAT

    private func decodeNAT(_ spec: MappingReader) -> NATSpec? {
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

    private func decodeForward(_ forward: MappingReader) -> ForwardPortSpec? {
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

    private func portRange(_ node: Node, _ path: String) -> PortRange? {
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

    // MARK: MicroVM

    private func decodeMicroVM(_ spec: MappingReader) -> MicroVMSpec? {
        let vcpu = spec.int("vcpu", range: 1...256)
        let memory = spec.int("memoryMb", range: 32...4_194_304, unit: " MiB")
        let kernel = bootFile(spec, "kernel")
        let initrd = bootFile(spec, "initrd")
        var rootVolume: RootVolumeSpec?
        if let volume = spec.mapping("rootVolume") {
            let idNode = volume.string("id")
            let id = idNode?.value
            if let idNode, !idNode.value.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) {
                // The id becomes QEMU's drive id inside a comma-separated option string (`r,file=/etc/shadow`).
                reader.error(at: idNode.location, volume.childPath("id"),
                             "\"\(idNode.value.escapedForMessage)\" may hold only letters, digits, '-' and '_' (it names the VMM's drive)")
            }
            let image = volume.string("image")
            let path = volume.string("path").flatMap(absolutePath)
            let readOnly = volume.bool("readOnly")?.value ?? false
            if image != nil && volume.take("path") == nil {
                reader.warning(volume.node, volume.childPath("image"),
                               "mooring pulls no images; rootVolume is ignored (set path to a host disk image)")
            } else if image == nil && volume.take("path") == nil {
                reader.error(volume.node, volume.childPath("path"), "is required (a host disk image, e.g. /var/lib/vms/web-1.img)")
            }
            rootVolume = RootVolumeSpec(id: id, path: path, readOnly: readOnly)
            volume.finish()
        }
        var cmdline = ""
        if let node = spec.take("kernelCmdline") {
            if case .mapping = node {
                let pairs = (reader.stringMap(node, "spec.kernelCmdline") ?? []).sorted { $0.key.value < $1.key.value }
                for (key, _) in pairs where key.value.contains(where: { $0 == " " || $0 == "=" }) {
                    reader.error(at: key.location, key.path, "kernel argument names cannot contain spaces or '='")
                }
                cmdline = pairs.map { $0.value.value.isEmpty ? $0.key.value : "\($0.key.value)=\($0.value.value)" }
                    .joined(separator: " ")
            } else if let text = reader.string(node, "spec.kernelCmdline") {
                cmdline = text.value
            }
            if cmdline.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                reader.error(node, "spec.kernelCmdline", "contains a control character")
            }
        }
        let vmm = spec.oneOf("vmm", VMMKind.self)
        var labels: [String: String] = [:]
        if let node = spec.take("labels") { labels = decodeLabels(node, "spec.labels") }
        var interfaces: [NetworkInterfaceSpec] = []
        let listed = spec.sequence("networkInterfaces")
        if listed == nil && spec.take("networkInterfaces") == nil {
            reader.error(spec.node, spec.childPath("networkInterfaces"), "is required (at least one interface, e.g. - {guestDeviceName: eth0, type: tap})")
        } else if let listed, listed.isEmpty {
            reader.error(spec.take("networkInterfaces"), spec.childPath("networkInterfaces"), "needs at least one interface")
        }
        var seenGuestNames: [String: Int] = [:]
        for (node, path) in listed ?? [] {
            guard let entry = reader.mapping(node, path) else { continue }
            defer { entry.finish() }
            guard let decoded = decodeInterface(entry) else { continue }
            if let firstLine = seenGuestNames[decoded.guestDeviceName.value] {
                reader.error(at: decoded.guestDeviceName.location, decoded.guestDeviceName.path,
                             "duplicate guestDeviceName \"\(decoded.guestDeviceName.value)\" (also on line \(firstLine))")
                continue
            }
            seenGuestNames[decoded.guestDeviceName.value] = decoded.guestDeviceName.location.line
            interfaces.append(decoded)
        }
        return MicroVMSpec(vcpu: vcpu, memoryMb: memory, kernel: kernel, initrd: initrd, rootVolume: rootVolume,
                           kernelCmdline: cmdline, vmm: vmm, labels: labels, networkInterfaces: interfaces,
                           specLocation: reader.location(of: spec.node),
                           writtenFields: Set(spec.entries.map(\.key)))
    }

    private func bootFile(_ spec: MappingReader, _ key: String) -> BootFileSpec? {
        guard let node = spec.take(key) else { return nil }
        let path = spec.childPath(key)
        if case .mapping = node {
            guard let object = reader.mapping(node, path) else { return nil }
            defer { object.finish() }
            if let image = object.string("image") {
                reader.warning(at: image.location, image.path,
                               "mooring pulls no images; \"\(image.value.escapedForMessage)\" is ignored and filename is used as a host path")
            }
            guard let filename = object.string("filename") else {
                reader.error(node, object.childPath("filename"), "is required (mooring pulls no images; give the host path of the file)")
                return nil
            }
            return absolutePath(filename).map { BootFileSpec(path: $0) }
        }
        guard let text = reader.string(node, path) else { return nil }
        return absolutePath(text).map { BootFileSpec(path: $0) }
    }

    private func decodeInterface(_ entry: MappingReader) -> NetworkInterfaceSpec? {
        let guestName = entry.string("guestDeviceName")
        if entry.take("guestDeviceName") == nil {
            reader.error(entry.node, entry.childPath("guestDeviceName"), "is required (the device name inside the guest, e.g. eth0)")
        }
        if let guestName, !Self.isGuestDeviceName(guestName.value) {
            reader.error(at: guestName.location, guestName.path,
                         "\"\(guestName.value.escapedForMessage)\" is not a guest device name (want ^[a-z][a-z0-9_]*$, at most 15 bytes, e.g. eth0)")
        }
        let type = entry.oneOf("type", NetworkInterfaceType.self)
        if entry.take("type") == nil { reader.error(entry.node, entry.childPath("type"), "is required (tap or macvtap)") }
        var guestMac: Located<MACAddress>?
        if let text = entry.string("guestMac") {
            if let mac = MACAddress(text.value) {
                if mac.isMulticast {
                    reader.error(at: text.location, text.path,
                                 "\"\(text.value.escapedForMessage)\" is a multicast MAC address (want a unicast one: the first byte even, e.g. 02:00:00:00:00:01)")
                } else if mac.isZero {
                    reader.error(at: text.location, text.path, "the all-zero MAC address cannot be used")
                } else {
                    guestMac = text.map { _ in mac }
                }
            } else {
                reader.error(at: text.location, text.path,
                             "\"\(text.value.escapedForMessage)\" is not a MAC address (want six hex pairs, e.g. 02:00:00:00:00:01)")
            }
        }
        var address: Located<CIDR>?
        if let text = entry.string("address"), let cidr = cidr(text) {
            if cidr.value.address.isIPv4 { address = cidr } else {
                reader.error(at: text.location, text.path,
                             "only IPv4 addresses can be handed to the guest on the kernel command line (ip=); configure IPv6 inside the guest")
            }
        }
        let bridge = interfaceName(entry.string("bridge"))
        let parent = interfaceName(entry.string("parentInterface"))
        let mode = entry.oneOf("macvtapMode", MacvtapMode.self)
        let hostName = interfaceName(entry.string("hostDeviceName"))
        if let type {
            switch type.value {
            case .tap:
                if let parent { reader.error(at: parent.location, parent.path, "applies to macvtap interfaces only (a tap joins a bridge; set bridge)") }
                if let mode { reader.error(at: mode.location, mode.path, "applies to macvtap interfaces only") }
            case .macvtap:
                if let bridge { reader.error(at: bridge.location, bridge.path, "applies to tap interfaces only (a macvtap sits on a parentInterface)") }
            }
        }
        guard let guestName, Self.isGuestDeviceName(guestName.value), let type else { return nil }
        return NetworkInterfaceSpec(guestDeviceName: guestName, type: type, guestMac: guestMac, address: address,
                                    bridge: bridge, parentInterface: parent, macvtapMode: mode?.value ?? .bridge,
                                    hostDeviceName: hostName, location: reader.location(of: entry.node), path: entry.path)
    }

    static func isGuestDeviceName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...15).contains(bytes.count), (0x61...0x7a).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }
    }
}
