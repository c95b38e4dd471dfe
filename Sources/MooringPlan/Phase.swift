import MooringModel

/// Execution order of a plan, and which changes may run at the same time: the one place that decides both.
/// Lower phases run first; within a phase, changes keep the planner's order. Raw values leave gaps for new phases
/// and are what the plan's JSON shows.
public enum Phase: Int, Sendable, Comparable, CaseIterable {
    /// A MicroVM stops before its devices go away.
    case stopUnits = 5
    /// Deleting MicroVM devices before the bridges they hang off, and recreated links before their new selves.
    case deleteMicroVMDevices = 10
    case deletePorts = 11
    case deleteBridges = 12
    case createBridges = 20
    case updateBridges = 25
    case hostPorts = 30
    case bridgePorts = 40
    case microVMDevices = 50
    case removeAddresses = 60
    case addAddresses = 61
    /// A host port's addresses that its bridge now carries leave the port, after the bridge has them (the
    /// kernel then drops the port's routes): the uplink moves in one netlink send.
    case moveUplinkAddresses = 62
    /// mooring's routes, once their link has its addresses (the gateway must be on-link).
    case routes = 65
    /// Sysctls of one link (`accept_ra`): in order, after the link exists, unlike the namespace-wide ones.
    case linkSysctls = 66
    /// A link's DNS in systemd-resolved, which names the link by index: after it exists.
    case linkNameservers = 67
    case sysctls = 70
    case nftables = 80
    /// The macvtaps' filter hooks each macvtap by name, and kernels before 6.10 refuse a hook on a device
    /// that does not exist yet: after the links, not alongside them.
    case deviceFilters = 85
    /// Images pulled and MicroVMs' disk layers made, just before the units that use them start.
    case images = 90
    case startUnits = 95

    public static func < (left: Phase, right: Phase) -> Bool { left.rawValue < right.rawValue }

    /// Changes of this phase run on a thread of their own, alongside the link changes: nftables rules and
    /// sysctls name interfaces as strings and need no link to exist. Everything else runs in plan order.
    public var runsAlongsideLinks: Bool { self == .sysctls || self == .nftables }
}

extension Phase {
    /// When a link of this role is created: masters before their ports, the MicroVMs' devices last.
    public init(creating role: LinkRole) {
        switch role {
        case .bridge: self = .createBridges
        case .bridgePort: self = .bridgePorts
        case .microVMDevice: self = .microVMDevices
        }
    }

    /// When a link of this role is deleted: devices before the ports, ports before their bridges.
    public init(deleting role: LinkRole) {
        switch role {
        case .bridge: self = .deleteBridges
        case .bridgePort: self = .deletePorts
        case .microVMDevice: self = .deleteMicroVMDevices
        }
    }
}

extension ObservedLinkKind {
    /// When a link of this kind is deleted; links mooring does not make go with the ports.
    public var deletePhase: Phase { Phase(deleting: config?.kind.role ?? .bridgePort) }
}
