import MooringModel
import MooringPlan

/// A link kind's netlink side: how it is made and how it is read back, one file per kind in this folder.
protocol NetlinkLinkKind: LinkKind {
    /// IFLA_INFO_KIND as the kernel reports it (`tun` for a tap); the kind's name unless it says otherwise.
    static var kernelKind: String { get }
    /// The link as this kind's value, from its IFLA_INFO_DATA (nil when the kernel sent none) and the link's
    /// common attributes; nil when it is in a form mooring does not make. `name` gives the name of a link by
    /// index, nil for an index that names no link here.
    static func read(_ data: LinkKindData?, of link: ObservedLink, name: (Int?) -> String?) -> Self?
    /// Queues its creation in `batch` (flushing it first when it needs an index made earlier in the batch).
    func queue(_ create: LinkCreation, on driver: NetlinkDriver, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws
}

extension NetlinkLinkKind {
    static var kernelKind: String { name }
}

// Both switches list every kind with no `default`: a kind without a netlink side does not compile.
extension LinkConfig {
    var netlink: any NetlinkLinkKind {
        switch self {
        case let .bridge(config): return config
        case let .tap(config): return config
        case let .macvtap(config): return config
        case let .vxlan(config): return config
        case let .vlan(config): return config
        }
    }
}

extension LinkConfig.Name {
    var netlink: any NetlinkLinkKind.Type {
        switch self {
        case .bridge: return BridgeConfig.self
        case .tap: return TapConfig.self
        case .macvtap: return MacvtapConfig.self
        case .vxlan: return VxlanConfig.self
        case .vlan: return VlanConfig.self
        }
    }

    /// Readers by IFLA_INFO_KIND.
    static let readers: [String: any NetlinkLinkKind.Type] =
        Dictionary(allCases.map { ($0.netlink.kernelKind, $0.netlink) }, uniquingKeysWith: { first, _ in first })
}

/// What every create carries besides its kind's own configuration.
struct LinkCreation {
    var name: String
    var alias: String
    var master: String?
    var mtu: Int?
    /// The change's position in the plan, and its operation, for errors and progress.
    var position: Int
    var operation: Action
}
