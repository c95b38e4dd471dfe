import MooringModel

/// An 802.1Q VLAN on a host interface, as a bridge port (needs the kernel's 8021q support).
public struct VlanConfig: LinkKind, Equatable {
    public static let name = "vlan"
    public var parent: String
    public var id: Int

    public init(parent: String, id: Int) {
        self.parent = parent
        self.id = id
    }

    public var references: [(link: String, role: String)] { [(parent, "VLAN parent")] }
    public var settings: [(key: String, value: JSONValue)] { [("parent", .string(parent)), ("id", JSONValue(id))] }
    public var summary: String { " on \(parent) id \(id)" }
}
