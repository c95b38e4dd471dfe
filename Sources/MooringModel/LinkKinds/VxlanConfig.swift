/// A VXLAN port of a bridge: a unicast `remote` or a multicast `group`, over an optional underlay `device`.
public struct VxlanConfig: LinkKind {
    public static let kindName = LinkConfig.Name.vxlan
    public var vni: Int
    public var local: IPAddress?
    public var remote: IPAddress?
    public var group: IPAddress?
    public var port: Int
    public var device: String?

    public init(vni: Int, local: IPAddress?, remote: IPAddress?, group: IPAddress?, port: Int, device: String?) {
        self.vni = vni
        self.local = local
        self.remote = remote
        self.group = group
        self.port = port
        self.device = device
    }

    public var config: LinkConfig { .vxlan(self) }
    public var role: LinkRole { .bridgePort }
    public var references: [(link: String, role: String)] { device.map { [($0, "underlay device")] } ?? [] }
    public var settings: [(key: String, value: JSONValue)] {
        [("vni", JSONValue(vni)), ("local", JSONValue(local?.description)), ("remote", JSONValue(remote?.description)),
         ("group", JSONValue(group?.description)), ("port", JSONValue(port)), ("device", JSONValue(device))]
    }
    public var summary: String { " vni \(vni)" + (remote.map { " remote \($0)" } ?? "") + (group.map { " group \($0)" } ?? "") }

    /// The kernel refuses a VXLAN MTU above its underlay's minus the encapsulation (outer IP, UDP, VXLAN and
    /// inner Ethernet headers: 50 bytes over IPv4, 70 over IPv6), or above 65535 minus that without an underlay.
    public func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)? {
        let ipv6 = [local, remote, group].contains { $0?.family == .ipv6 }
        let overhead = ipv6 ? 70 : 50
        let over = "VXLAN over \(ipv6 ? "IPv6" : "IPv4") adds \(overhead) bytes"
        if let device, let underlay = links[device] {
            return (underlay.mtu - overhead, "its underlay \(device) has mtu \(underlay.mtu) and \(over)")
        }
        return (65535 - overhead, over)
    }

    public func fixedDifferences(from have: VxlanConfig) -> [KindDifference] {
        var out: [KindDifference] = []
        if have.vni != vni { out.append(KindDifference("vni", JSONValue(have.vni), JSONValue(vni), "vni \(have.vni) -> \(vni)")) }
        // The kernel keeps a unicast remote and a multicast group in one attribute.
        let peer = remote ?? group, havePeer = have.remote ?? have.group
        if havePeer != peer {
            out.append(KindDifference("remote", JSONValue(havePeer?.description), JSONValue(peer?.description),
                                      "remote \(havePeer?.description ?? "none") -> \(peer?.description ?? "none")"))
        }
        if let local, have.local != local {
            out.append(KindDifference("local", JSONValue(have.local?.description), .string(local.description),
                                      "local \(have.local?.description ?? "none") -> \(local)"))
        }
        if have.port != port {
            out.append(KindDifference("dstport", JSONValue(have.port), JSONValue(port), "dstport \(have.port) -> \(port)"))
        }
        if let device, have.device != device {
            out.append(KindDifference("device", JSONValue(have.device), .string(device), "device \(have.device ?? "none") -> \(device)"))
        }
        return out
    }
}

extension VxlanConfig: BridgePortKind {
    static let manifestField = "vxlan"

    func deviceName(bridge: String) -> String { DeviceNaming.bridgePort(bridge: bridge, prefix: "vx", field: Self.manifestField) }

    static func decode(_ vxlan: MappingReader, _ decoder: ManifestDecoder) -> VxlanConfig? {
        let reader = decoder.reader
        let vni = vxlan.int("vni", range: 1...16_777_215)
        if vxlan.take("vni") == nil {
            reader.error(vxlan.node, vxlan.childPath("vni"), "is required (the VXLAN network identifier, 1-16777215)")
        }
        let local = decoder.ipAddress(vxlan.string("local"))
        let remote = decoder.ipAddress(vxlan.string("remote"))
        let group = decoder.ipAddress(vxlan.string("group"))
        let dstPort = vxlan.int("dstPort", range: 1...65535)
        let device = decoder.interfaceName(vxlan.string("device"))
        let here = reader.location(of: vxlan.node)
        func error(_ location: SourceLocation, _ path: String, _ message: String) { reader.error(at: location, path, message) }
        if let remote, let group {
            error(group.location, group.path, "set either remote (unicast peer) or group (multicast), not both")
            _ = remote
        } else if vxlan.take("remote") == nil && vxlan.take("group") == nil {
            error(here, vxlan.path, "needs remote (the peer's address) or group (a multicast group)")
        }
        if let remote, remote.value.isMulticast {
            error(remote.location, remote.path, "\(remote.value) is a multicast address; use group for multicast")
        }
        if let group, !group.value.isMulticast {
            error(group.location, group.path, "\(group.value) is not a multicast address (want e.g. 239.1.1.1)")
        }
        if let group, group.value.isMulticast, device == nil {
            error(group.location, vxlan.childPath("device"), "is required with group (the underlay interface to join the group on)")
        }
        if let local, let peer = remote ?? group, local.value.family != peer.value.family {
            error(local.location, local.path, "local \(local.value) and \(peer.path.split(separator: ".").last!) \(peer.value) are of different address families")
        }
        guard let vni else { return nil }
        return VxlanConfig(vni: vni.value, local: local?.value, remote: remote?.value, group: group?.value,
                           port: dstPort?.value ?? 4789, device: device?.value)
    }
}
