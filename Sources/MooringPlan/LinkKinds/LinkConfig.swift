import MooringModel

/// What a link mooring creates is made of, beyond its name, alias, master and MTU: one case per kind, each
/// kind's type in a file of its own (LinkKinds/). Adding a kind is its type here, a case below, and the
/// planner's and the netlink driver's files for it (docs/architecture.md, "Adding things").
public enum LinkConfig: Sendable, Equatable {
    case bridge(BridgeConfig)
    case tap(TapConfig)
    case macvtap(MacvtapConfig)
    case vxlan(VxlanConfig)
    case vlan(VlanConfig)

    public var kind: any LinkKind {
        switch self {
        case let .bridge(config): return config
        case let .tap(config): return config
        case let .macvtap(config): return config
        case let .vxlan(config): return config
        case let .vlan(config): return config
        }
    }
}

/// What every link kind tells the rest of mooring about itself.
public protocol LinkKind: Sendable {
    /// `bridge`, `tap`, ... as plans and the kernel name it.
    static var name: String { get }
    /// Other links it is built on, with their role (`parent interface`, `underlay device`): they must exist
    /// before it is created.
    var references: [(link: String, role: String)] { get }
    /// Its own settings, for the plan's JSON (`{"vni": 42, ...}`).
    var settings: [(key: String, value: JSONValue)] { get }
    /// Its own settings for people, appended to `create vxlan vx0`: ` vni 42 remote 192.0.2.2`.
    var summary: String { get }
}

extension LinkKind {
    public var name: String { Self.name }
    public var references: [(link: String, role: String)] { [] }
}
