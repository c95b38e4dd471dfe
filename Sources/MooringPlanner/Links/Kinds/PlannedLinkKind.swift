import MooringModel
import MooringPlan

/// How the link planner handles one kind of link. The kind's own type (LinkKinds/ in MooringPlan) serves as
/// the desired value and, read back from what the kernel reports (`init(observed:)`), as the observed one: the
/// two are compared value to value. One file per kind in this folder.
protocol PlannedLinkKind: LinkKind {
    /// The link as the kernel reports it, as this kind's value; nil when it is another kind. A reference the
    /// kernel gives by index (a parent, an underlay) that names no link here is empty.
    init?(observed link: ObservedLink, names: LinkNames)
    /// When links of this kind are created (masters before their ports, devices last).
    var phase: Phase { get }
    /// Its fixed fields (only recreating the link changes them) that differ from `have`.
    func fixedDifferences(from have: Self) -> [LinkDifference]
    /// Why this host cannot create it, and the fix; nil when it can.
    func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)?
    /// The largest MTU the kernel accepts for it on this host, and why; nil when the generic limits hold.
    func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)?
}

extension PlannedLinkKind {
    func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)? { nil }
    func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)? { nil }

    /// Its fixed fields that differ from `link`; nil when `link` is another kind altogether.
    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]? {
        Self(observed: link, names: names).map(fixedDifferences(from:))
    }
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

    /// What it takes to make `link` again, from what the kernel reports of it (`apply --try`'s revert); nil for
    /// kinds mooring does not make, and when a link it is built on is not here. Every kind is listed, with no
    /// `default`: a new kind of `ObservedLinkKind` does not compile until it says how it is made again.
    init?(observed link: ObservedLink, names: LinkNames) {
        let config: LinkConfig?
        switch link.kind {
        case .bridge: config = BridgeConfig(observed: link, names: names).map(LinkConfig.bridge)
        case .tun: config = TapConfig(observed: link, names: names).map(LinkConfig.tap)
        case .macvtap: config = MacvtapConfig(observed: link, names: names).map(LinkConfig.macvtap)
        case .vxlan: config = VxlanConfig(observed: link, names: names).map(LinkConfig.vxlan)
        case .vlan: config = VlanConfig(observed: link, names: names).map(LinkConfig.vlan)
        case .veth, .device, .other: config = nil
        }
        guard let config, config.kind.references.allSatisfy({ !$0.link.isEmpty }) else { return nil }
        self = config
    }
}

extension ObservedLinkKind {
    /// When a link of this kind is deleted: devices before the ports, ports before their bridges. Every kind is
    /// listed, with no `default`.
    var deletePhase: Phase {
        switch self {
        case .tun, .macvtap: return .deleteMicroVMDevices
        case .bridge: return .deleteBridges
        case .vxlan, .vlan, .veth, .device, .other: return .deletePorts
        }
    }
}

/// Names of observed links by index, for kinds that refer to a parent or an underlay device.
struct LinkNames {
    let byIndex: LinkLookup<Int>
    func name(_ index: Int?) -> String? { index.flatMap { byIndex[$0]?.name } }
}
