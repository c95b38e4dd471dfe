/// An 802.1Q VLAN on a host interface, as a bridge port (needs the kernel's 8021q support).
public struct VlanConfig: LinkKind {
    public static let kindName = LinkConfig.Name.vlan
    public var parent: String
    public var id: Int

    public init(parent: String, id: Int) {
        self.parent = parent
        self.id = id
    }

    public var config: LinkConfig { .vlan(self) }
    public var role: LinkRole { .bridgePort }
    public var references: [(link: String, role: String)] { [(parent, "VLAN parent")] }
    public var settings: [(key: String, value: JSONValue)] { [("parent", .string(parent)), ("id", JSONValue(id))] }
    public var summary: String { " on \(parent) id \(id)" }

    public func fixedDifferences(from have: VlanConfig) -> [KindDifference] {
        var out: [KindDifference] = []
        if have.id != id { out.append(KindDifference("id", JSONValue(have.id), JSONValue(id), "id \(have.id) -> \(id)")) }
        if have.parent != parent {
            out.append(KindDifference("parent", have.parent.isEmpty ? .null : .string(have.parent), .string(parent),
                                      "parent \(have.parent.isEmpty ? "?" : have.parent) -> \(parent)"))
        }
        return out
    }

    public func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)? {
        capabilities.vlan ? nil : ("this kernel cannot create 802.1Q VLAN devices (no 8021q support)",
                                   "load the 8021q module (modprobe 8021q), or remove spec.vlan")
    }
}

extension VlanConfig: BridgePortKind {
    static let manifestField = "vlan"

    func deviceName(bridge: String) -> String { DeviceNaming.vlanPort(parent: parent, id: id) }

    static func decode(_ vlan: MappingReader, _ decoder: ManifestDecoder) -> VlanConfig? {
        let parent = decoder.interfaceName(vlan.string("parent"))
        let id = vlan.int("id", range: 1...4094)
        if vlan.take("parent") == nil {
            decoder.reader.error(vlan.node, vlan.childPath("parent"), "is required (the host interface the VLAN rides on, e.g. eth0)")
        }
        if vlan.take("id") == nil { decoder.reader.error(vlan.node, vlan.childPath("id"), "is required (the 802.1Q VLAN id, 1-4094)") }
        guard let parent, let id else { return nil }
        return VlanConfig(parent: parent.value, id: id.value)
    }
}
