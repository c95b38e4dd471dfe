/// What a link mooring creates is made of, beyond its name, alias, master and MTU: one case per kind, each
/// kind's type in a file of its own (this folder). The same value is the desired link (LinkSpec) and, read
/// back by the netlink driver, the observed one (`ObservedLinkKind.made`): compared value to value, as
/// nmstate's `ifaces/*.rs`. Adding a kind: docs/architecture.md, "Adding things".
public enum LinkConfig: Sendable, Equatable, Codable {
    case bridge(BridgeConfig)
    case tap(TapConfig)
    case macvtap(MacvtapConfig)
    case vxlan(VxlanConfig)
    case vlan(VlanConfig)

    /// Every switch over kinds is in this file or in the netlink driver's Kinds/NetlinkLinkKind.swift, and
    /// none has a `default`: the compiler names each place a new kind needs.
    public var kind: any LinkKind {
        switch self {
        case let .bridge(config): return config
        case let .tap(config): return config
        case let .macvtap(config): return config
        case let .vxlan(config): return config
        case let .vlan(config): return config
        }
    }

    /// The kinds by name, for what is chosen before there is a value: the netlink driver reads a link back
    /// by its kernel kind.
    public enum Name: String, Sendable, CaseIterable {
        case bridge, tap, macvtap, vxlan, vlan

        public var type: any LinkKind.Type {
            switch self {
            case .bridge: return BridgeConfig.self
            case .tap: return TapConfig.self
            case .macvtap: return MacvtapConfig.self
            case .vxlan: return VxlanConfig.self
            case .vlan: return VlanConfig.self
            }
        }

        /// The kinds a Bridge manifest declares as its ports, each in a field of its own; nil for the others
        /// (the bridge itself, and the MicroVMs' devices, which their interfaces declare).
        var bridgePort: (any BridgePortKind.Type)? {
            switch self {
            case .bridge, .tap, .macvtap: return nil
            case .vxlan: return VxlanConfig.self
            case .vlan: return VlanConfig.self
            }
        }
    }

    /// Its fixed fields that differ from `have`; nil when `have` is another kind altogether.
    public func fixedDifferences(from have: LinkConfig) -> [KindDifference]? {
        func compare<Kind: LinkKind>(_ want: Kind) -> [KindDifference]? {
            (have.kind as? Kind).map(want.fixedDifferences(from:))
        }
        return compare(kind)
    }
}

/// What every link kind tells the rest of mooring about itself.
public protocol LinkKind: Sendable, Equatable, Codable {
    /// `bridge`, `tap`, ... as plans name it.
    static var kindName: LinkConfig.Name { get }
    /// Itself as a `LinkConfig` (`.vxlan(self)`).
    var config: LinkConfig { get }
    /// What it is to mooring, which decides when it is created and deleted.
    var role: LinkRole { get }
    /// Other links it is built on, with their role (`parent interface`, `underlay device`): they must exist
    /// before it is created. An empty name: read back from the kernel, the link it names is not here.
    var references: [(link: String, role: String)] { get }
    /// Its own settings, for the plan's JSON (`{"vni": 42, ...}`).
    var settings: [(key: String, value: JSONValue)] { get }
    /// Its own settings for people, appended to `create vxlan vx0`: ` vni 42 remote 192.0.2.2`.
    var summary: String { get }
    /// Its fixed fields (only recreating the link changes them) that differ from `have`.
    func fixedDifferences(from have: Self) -> [KindDifference]
    /// Why this host cannot create it, and the fix; nil when it can.
    func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)?
    /// The largest MTU the kernel accepts for it on this host, and why; nil when the generic limits hold.
    func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)?
}

extension LinkKind {
    public static var name: String { kindName.rawValue }
    public var name: String { Self.name }
    public var references: [(link: String, role: String)] { [] }
    public func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)? { nil }
    public func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)? { nil }
}

/// What a link is to mooring: when it is created (masters before their ports, the MicroVMs' devices last) and
/// deleted (in the opposite order).
public enum LinkRole: Sendable {
    case bridge, bridgePort, microVMDevice
}

/// One fixed field in which a link differs from what it should be: typed values for the plan, a line for people.
public struct KindDifference: Sendable, Equatable {
    public var field: String
    public var before: JSONValue
    public var after: JSONValue
    /// `vni 42 -> 43`.
    public var text: String

    public init(_ field: String, _ before: JSONValue, _ after: JSONValue, _ text: String) {
        self.field = field
        self.before = before
        self.after = after
        self.text = text
    }
}
