/// A unicast route as the kernel reports it.
public struct ObservedRoute: Sendable, Codable, Equatable {
    public var destination: CIDR
    public var gateway: IPAddress?
    public var metric: Int
    public var table: Int
    /// rtm_protocol: who made it (2 kernel, 3 boot, 4 static, 16 dhcp, 193 mooring).
    public var protocolNumber: Int

    public init(destination: CIDR, gateway: IPAddress?, metric: Int, table: Int, protocolNumber: Int) {
        self.destination = destination
        self.gateway = gateway
        self.metric = metric
        self.table = table
        self.protocolNumber = protocolNumber
    }

    /// RTPROT_KERNEL: the prefix routes the kernel makes for an address, and removes with it.
    public static let kernelProtocol = 2

    public var isMooring: Bool { protocolNumber == DesiredRoute.mooringProtocol }
    public var asDesired: DesiredRoute {
        DesiredRoute(destination: destination, gateway: gateway, metric: metric, table: table, protocolNumber: protocolNumber)
    }
    public func sameKey(as route: DesiredRoute) -> Bool { asDesired.sameKey(as: route) }
}

/// One kernel network link as a netlink dump reports it. Filled in by the netlink driver; no planning here.
public struct ObservedLink: Sendable, Codable, Equatable {
    public var index: Int
    public var name: String
    public var kind: ObservedLinkKind
    /// Ifindex of the bridge this link is a port of.
    public var masterIndex: Int?
    /// Ifindex of the lower device (a macvtap's or VLAN's parent), in this namespace.
    public var parentIndex: Int?
    public var mac: MACAddress?
    public var mtu: Int
    /// Administratively up (IFF_UP), whatever the carrier.
    public var isUp: Bool
    public var alias: String?
    public var group: UInt32
    /// Addresses on the link, without kernel-generated IPv6 link-local ones.
    public var addresses: [CIDR]
    /// Unicast routes out of the link (any protocol; mooring's carry `DesiredRoute.mooringProtocol`).
    public var routes: [ObservedRoute] = []
    /// A bridge port's IFLA_BRPORT_ISOLATED; nil when the link is no bridge port.
    public var isolated: Bool?
    /// A bridge port's MAC learning and unknown-unicast flooding (IFLA_BRPORT_LEARNING, _UNICAST_FLOOD); nil for
    /// links that are no bridge port.
    public var learning: Bool?
    public var unicastFlood: Bool?
    /// The static forwarding entries of the port's bridge that point at this port (`bridge fdb add MAC dev
    /// PORT master static`). Read only when some port has learning off (the dump is not needed otherwise).
    public var staticFDB: [MACAddress] = []

    public init(index: Int, name: String, kind: ObservedLinkKind, masterIndex: Int? = nil, parentIndex: Int? = nil,
                mac: MACAddress? = nil, mtu: Int = 1500, isUp: Bool = false, alias: String? = nil, group: UInt32 = 0,
                addresses: [CIDR] = []) {
        self.index = index
        self.name = name
        self.kind = kind
        self.masterIndex = masterIndex
        self.parentIndex = parentIndex
        self.mac = mac
        self.mtu = mtu
        self.isUp = isUp
        self.alias = alias
        self.group = group
        self.addresses = addresses
    }

    /// True when the link carries mooring's mark, or sits at an interface index only mooring uses (a link
    /// created by a run that was killed before it could mark it).
    public var isOwnedByMooring: Bool {
        alias?.hasPrefix(DeviceNaming.aliasPrefix) == true || index >= DeviceNaming.reservedIndexBase
    }

    /// The owner recorded in the alias (`MicroVM/web-1/eth0`), if mooring's.
    public var owner: String? {
        guard let alias, alias.hasPrefix(DeviceNaming.aliasPrefix) else { return nil }
        return String(alias.dropFirst(DeviceNaming.aliasPrefix.count))
    }
}

/// The kinds of link (IFLA_INFO_KIND) whose settings mooring reads (LinkDumpParser); any other is
/// `ObservedLinkKind.other`. A new link kind mooring makes is added here, and the compiler then names the parser.
public enum KernelLinkKind: String, CaseIterable, Sendable {
    case bridge, veth, tun, macvtap, vxlan, vlan
}

public enum ObservedLinkKind: Sendable, Codable, Equatable {
    case bridge
    case tun(TunInfo)
    /// `sourceMACs`: the allowed source MACs of a `source` mode macvtap (IFLA_MACVLAN_MACADDR_DATA).
    case macvtap(mode: MacvtapMode?, sourceMACs: [MACAddress] = [])
    case vxlan(VxlanInfo)
    case vlan(id: Int)
    case veth
    /// A device without rtnetlink link info: a physical NIC, loopback.
    case device
    case other(String)

    /// The kernel's kind it is read from; nil for devices without link info and kinds mooring does not read.
    /// Every case is listed: a new one does not compile until it says which kernel kind it is.
    public var kernelKind: KernelLinkKind? {
        switch self {
        case .bridge: return .bridge
        case .tun: return .tun
        case .macvtap: return .macvtap
        case .vxlan: return .vxlan
        case .vlan: return .vlan
        case .veth: return .veth
        case .device, .other: return nil
        }
    }

    public var name: String {
        switch self {
        case .bridge: return "bridge"
        case let .tun(info): return info.isTap ? "tap" : "tun"
        case .macvtap: return "macvtap"
        case .vxlan: return "vxlan"
        case .vlan: return "vlan"
        case .veth: return "veth"
        case .device: return "device"
        case let .other(kind): return kind
        }
    }
}

public struct TunInfo: Sendable, Codable, Equatable {
    public var isTap: Bool
    public var vnetHeader: Bool
    public var multiQueue: Bool
    public var persistent: Bool
    /// IFLA_TUN_OWNER / IFLA_TUN_GROUP; nil when unset.
    public var owner: UInt32?
    public var group: UInt32?
    /// IFLA_TUN_NUM_QUEUES: the queues a VMM has attached now.
    public var attachedQueues: Int

    public init(isTap: Bool, vnetHeader: Bool, multiQueue: Bool, persistent: Bool, owner: UInt32? = nil,
                group: UInt32? = nil, attachedQueues: Int = 0) {
        self.isTap = isTap
        self.vnetHeader = vnetHeader
        self.multiQueue = multiQueue
        self.persistent = persistent
        self.owner = owner
        self.group = group
        self.attachedQueues = attachedQueues
    }
}

public struct VxlanInfo: Sendable, Codable, Equatable {
    public var vni: Int
    public var local: IPAddress?
    /// IFLA_VXLAN_GROUP/GROUP6: the unicast remote or the multicast group.
    public var remote: IPAddress?
    public var port: Int
    public var deviceIndex: Int?

    public init(vni: Int, local: IPAddress? = nil, remote: IPAddress? = nil, port: Int = 4789, deviceIndex: Int? = nil) {
        self.vni = vni
        self.local = local
        self.remote = remote
        self.port = port
        self.deviceIndex = deviceIndex
    }
}
