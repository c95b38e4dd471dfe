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

/// What a link is, as the kernel reports it: a kind mooring makes, read back as that kind's own type (the
/// same type the plan creates it from), or a link mooring only looks at.
public enum ObservedLinkKind: Sendable, Codable, Equatable {
    case made(LinkConfig)
    case veth
    /// A device without rtnetlink link info: a physical NIC, loopback.
    case device
    /// Any other kernel kind, and one of mooring's kinds in a form mooring does not make (a `tun` device, a
    /// macvtap in a mode it does not know).
    case other(String)

    public var name: String {
        switch self {
        case let .made(config): return config.kind.name
        case .veth: return "veth"
        case .device: return "device"
        case let .other(kind): return kind
        }
    }

    public var config: LinkConfig? {
        if case let .made(config) = self { config } else { nil }
    }

    public var isBridge: Bool {
        if case .made(.bridge) = self { true } else { false }
    }
}
