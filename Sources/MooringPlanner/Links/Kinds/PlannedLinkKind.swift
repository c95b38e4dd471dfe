import MooringModel
import MooringPlan

/// How the link planner handles one kind of link: when it is created, which of its fields only recreating it
/// can change, and what the host must support. One file per kind in this folder.
protocol PlannedLinkKind {
    /// When links of this kind are created (masters before their ports, devices last).
    var phase: Phase { get }
    /// Its fixed fields that differ from `link`; nil when `link` is another kind altogether.
    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]?
    /// Why this host cannot create it, and the fix; nil when it can.
    func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)?
    /// The largest MTU the kernel accepts for it on this host, and why; nil when the generic limits hold.
    func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)?
}

extension PlannedLinkKind {
    func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)? { nil }
    func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)? { nil }
}

extension LinkConfig {
    /// The same switch as `LinkConfig.kind`, on purpose: a cast of `kind` would compile with a kind that has
    /// no planning file and fail only at run time; this switch fails to compile instead.
    var planned: any PlannedLinkKind {
        switch self {
        case let .bridge(config): return config
        case let .tap(config): return config
        case let .macvtap(config): return config
        case let .vxlan(config): return config
        case let .vlan(config): return config
        }
    }
}

/// Names of observed links by index, for kinds that refer to a parent or an underlay device.
struct LinkNames {
    let byIndex: LinkLookup<Int>
    func name(_ index: Int?) -> String? { index.flatMap { byIndex[$0]?.name } }
}
