import CNetlink
import Foundation
import MooringModel

/// Turns RTM_NEWLINK and RTM_NEWADDR messages into observed values (libnl's attribute parser).
enum LinkDumpParser {
    private typealias Table = [UnsafeMutablePointer<nlattr>?]

    private static func parse(_ attribute: UnsafeMutablePointer<nlattr>?, max: Int) -> Table? {
        guard let attribute else { return nil }
        var table = Table(repeating: nil, count: max + 1)
        guard nla_parse_nested(&table, Int32(max), attribute, nil) >= 0 else { return nil }
        return table
    }

    private static func string(_ attribute: UnsafeMutablePointer<nlattr>?) -> String? {
        guard let attribute, nla_len(attribute) > 0 else { return nil }
        let data = nla_data(attribute)!.assumingMemoryBound(to: UInt8.self)
        let bytes = UnsafeBufferPointer(start: data, count: Int(nla_len(attribute))).prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func bytes(_ attribute: UnsafeMutablePointer<nlattr>?) -> [UInt8]? {
        guard let attribute else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: nla_data(attribute), count: Int(nla_len(attribute))))
    }

    private static func u32(_ attribute: UnsafeMutablePointer<nlattr>?) -> UInt32? { attribute.map { nla_get_u32($0) } }
    private static func u8(_ attribute: UnsafeMutablePointer<nlattr>?) -> UInt8? { attribute.map { nla_get_u8($0) } }

    static func link(_ header: UnsafeMutablePointer<nlmsghdr>) -> ObservedLink? {
        guard Int(header.pointee.nlmsg_type) == Int(RTM_NEWLINK) else { return nil }
        var table = Table(repeating: nil, count: Int(mooring_IFLA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<ifinfomsg>.size), &table, Int32(mooring_IFLA_MAX), nil) >= 0 else { return nil }
        let info = nlmsg_data(header)!.load(as: ifinfomsg.self)
        guard let name = string(table[Int(IFLA_IFNAME)]) else { return nil }

        var kind = ObservedLinkKind.device
        var isolated: Bool?
        var learning: Bool?
        var unicastFlood: Bool?
        if let linkInfo = parse(table[Int(IFLA_LINKINFO)], max: Int(mooring_IFLA_INFO_MAX)) {
            if let kindName = string(linkInfo[Int(IFLA_INFO_KIND)]) {
                kind = linkKind(kindName, data: linkInfo[Int(IFLA_INFO_DATA)])
            }
            // A bridge port's settings come as its slave data.
            if string(linkInfo[Int(IFLA_INFO_SLAVE_KIND)]) == "bridge",
               let port = parse(linkInfo[Int(IFLA_INFO_SLAVE_DATA)], max: Int(mooring_IFLA_BRPORT_MAX)) {
                isolated = u8(port[Int(IFLA_BRPORT_ISOLATED)]).map { $0 != 0 } ?? false
                learning = u8(port[Int(IFLA_BRPORT_LEARNING)]).map { $0 != 0 }
                unicastFlood = u8(port[Int(IFLA_BRPORT_UNICAST_FLOOD)]).map { $0 != 0 }
            }
        }
        // A parent in another namespace (IFLA_LINK_NETNSID) has an index that means nothing here.
        let parent = table[Int(IFLA_LINK_NETNSID)] == nil ? u32(table[Int(IFLA_LINK)]).map(Int.init) : nil
        let mac = bytes(table[Int(IFLA_ADDRESS)]).flatMap { $0.count == 6 ? MACAddress(bytes: $0) : nil }
        let alias = string(table[Int(IFLA_IFALIAS)]).flatMap { $0.isEmpty ? nil : $0 }
        var link = ObservedLink(index: Int(info.ifi_index), name: name, kind: kind,
                                masterIndex: u32(table[Int(IFLA_MASTER)]).flatMap { $0 == 0 ? nil : Int($0) },
                                parentIndex: parent.flatMap { $0 == Int(info.ifi_index) || $0 == 0 ? nil : $0 },
                                mac: mac, mtu: Int(u32(table[Int(IFLA_MTU)]) ?? 0),
                                isUp: info.ifi_flags & UInt32(IFF_UP) != 0, alias: alias,
                                group: u32(table[Int(IFLA_GROUP)]) ?? 0)
        link.isolated = isolated
        link.learning = learning
        link.unicastFlood = unicastFlood
        return link
    }

    /// A static, sticky entry of a bridge's forwarding table (`master static sticky`, no VLAN): the port's index
    /// and the MAC. Learned, roaming, permanent (the bridge's own addresses) and the ports' own (`self`) entries
    /// are left out.
    static func staticFDBEntry(_ header: UnsafeMutablePointer<nlmsghdr>) -> (index: Int, mac: MACAddress)? {
        guard Int(header.pointee.nlmsg_type) == Int(RTM_NEWNEIGH) else { return nil }
        var table = Table(repeating: nil, count: Int(mooring_NDA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<ndmsg>.size), &table, Int32(mooring_NDA_MAX), nil) >= 0 else { return nil }
        let info = nlmsg_data(header)!.load(as: ndmsg.self)
        guard Int32(info.ndm_family) == AF_BRIDGE, info.ndm_state & UInt16(NUD_NOARP) != 0, info.ndm_state & UInt16(NUD_PERMANENT) == 0,
              info.ndm_flags & UInt8(NTF_STICKY) != 0,
              table[Int(NDA_MASTER)] != nil, table[Int(NDA_VLAN)] == nil,
              let bytes = bytes(table[Int(NDA_LLADDR)]), bytes.count == 6 else { return nil }
        return (Int(info.ndm_ifindex), MACAddress(bytes: bytes))
    }

    /// Every kind mooring reads is listed, with no `default`: a kind added to `KernelLinkKind` does not compile
    /// until it is read here (a kind read as `.other` would never converge: deleted and made again every round).
    private static func linkKind(_ kind: String, data: UnsafeMutablePointer<nlattr>?) -> ObservedLinkKind {
        guard let known = KernelLinkKind(rawValue: kind) else { return .other(kind) }
        switch known {
        case .bridge: return .bridge
        case .veth: return .veth
        case .tun:
            let tun = parse(data, max: Int(mooring_IFLA_TUN_MAX))
            func flag(_ attribute: Int) -> Bool { tun.flatMap { u8($0[attribute]) } == 1 }
            let type = tun.flatMap { u8($0[Int(IFLA_TUN_TYPE)]) } ?? 0
            // An unset owner or group is reported as (uid_t)-1.
            func id(_ attribute: Int) -> UInt32? { tun.flatMap { u32($0[attribute]) }.flatMap { $0 == UInt32.max ? nil : $0 } }
            return .tun(TunInfo(isTap: type == UInt8(IFF_TAP), vnetHeader: flag(Int(IFLA_TUN_VNET_HDR)),
                                multiQueue: flag(Int(IFLA_TUN_MULTI_QUEUE)), persistent: flag(Int(IFLA_TUN_PERSIST)),
                                owner: id(Int(IFLA_TUN_OWNER)), group: id(Int(IFLA_TUN_GROUP)),
                                attachedQueues: Int(tun.flatMap { u32($0[Int(IFLA_TUN_NUM_QUEUES)]) } ?? 0)))
        case .macvtap:
            let macvlan = parse(data, max: Int(mooring_IFLA_MACVLAN_MAX))
            let mode = macvlan.flatMap { u32($0[Int(IFLA_MACVLAN_MODE)]) }
            return .macvtap(mode: mode.flatMap(macvtapMode), sourceMACs: macvlan.map { sourceMACs($0[Int(IFLA_MACVLAN_MACADDR_DATA)]) } ?? [])
        case .vxlan:
            guard let vx = parse(data, max: Int(mooring_IFLA_VXLAN_MAX)) else { return .other(kind) }
            func address(_ v4: Int, _ v6: Int) -> IPAddress? {
                if let raw = bytes(vx[v4]), raw.count == 4, raw != [0, 0, 0, 0] { return IPAddress(family: .ipv4, bytes: raw) }
                if let raw = bytes(vx[v6]), raw.count == 16, raw.contains(where: { $0 != 0 }) { return IPAddress(family: .ipv6, bytes: raw) }
                return nil
            }
            let port = vx[Int(IFLA_VXLAN_PORT)].map { Int(UInt16(bigEndian: nla_get_u16($0))) } ?? 4789
            return .vxlan(VxlanInfo(vni: Int(u32(vx[Int(IFLA_VXLAN_ID)]) ?? 0),
                                    local: address(Int(IFLA_VXLAN_LOCAL), Int(IFLA_VXLAN_LOCAL6)),
                                    remote: address(Int(IFLA_VXLAN_GROUP), Int(IFLA_VXLAN_GROUP6)),
                                    port: port, deviceIndex: u32(vx[Int(IFLA_VXLAN_LINK)]).flatMap { $0 == 0 ? nil : Int($0) }))
        case .vlan:
            let id = parse(data, max: Int(mooring_IFLA_VLAN_MAX)).flatMap { $0[Int(IFLA_VLAN_ID)].map { Int(nla_get_u16($0)) } }
            return .vlan(id: id ?? 0)
        }
    }

    /// The nested IFLA_MACVLAN_MACADDR entries of IFLA_MACVLAN_MACADDR_DATA, sorted.
    static func sourceMACs(_ data: UnsafeMutablePointer<nlattr>?) -> [MACAddress] {
        guard let data else { return [] }
        var macs: [MACAddress] = []
        var remaining = nla_len(data)
        var attribute = nla_data(data).map { UnsafeMutablePointer<nlattr>(OpaquePointer($0)) }
        while let current = attribute, nla_ok(current, remaining) != 0 {
            if nla_type(current) == Int32(IFLA_MACVLAN_MACADDR), nla_len(current) == 6, let bytes = nla_data(current) {
                macs.append(MACAddress(bytes: Array(UnsafeRawBufferPointer(start: bytes, count: 6))))
            }
            attribute = nla_next(current, &remaining)
        }
        return macs.sorted { $0.description < $1.description }
    }

    static func macvtapMode(_ raw: UInt32) -> MacvtapMode? {
        switch raw {
        case 1: return .private
        case 2: return .vepa
        case 4: return .bridge
        case 8: return .passthru
        case 16: return .source
        default: return nil
        }
    }

    static func macvtapModeValue(_ mode: MacvtapMode) -> UInt32 {
        switch mode {
        case .private: return 1
        case .vepa: return 2
        case .bridge: return 4
        case .passthru: return 8
        case .source: return 16
        }
    }

    /// A unicast route with a single output link; multipath, local, broadcast and cached routes are left out.
    static func route(_ header: UnsafeMutablePointer<nlmsghdr>) -> (index: Int, route: ObservedRoute)? {
        guard Int(header.pointee.nlmsg_type) == Int(RTM_NEWROUTE) else { return nil }
        var table = Table(repeating: nil, count: Int(mooring_RTA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<rtmsg>.size), &table, Int32(mooring_RTA_MAX), nil) >= 0 else { return nil }
        let info = nlmsg_data(header)!.load(as: rtmsg.self)
        guard info.rtm_type == UInt8(RTN_UNICAST), let index = u32(table[Int(RTA_OIF.rawValue)]) else { return nil }
        let family: IPAddress.Family
        switch Int32(info.rtm_family) {
        case AF_INET: family = .ipv4
        case AF_INET6: family = .ipv6
        default: return nil
        }
        let width = family == .ipv4 ? 4 : 16
        let destination = bytes(table[Int(RTA_DST.rawValue)]).map { IPAddress(family: family, bytes: $0) }
            ?? IPAddress(family: family, bytes: [UInt8](repeating: 0, count: width))
        let gateway = bytes(table[Int(RTA_GATEWAY.rawValue)]).flatMap { $0.count == width ? IPAddress(family: family, bytes: $0) : nil }
        let routeTable = u32(table[Int(RTA_TABLE.rawValue)]).map(Int.init) ?? Int(info.rtm_table)
        let route = ObservedRoute(destination: CIDR(address: destination, prefixLength: Int(info.rtm_dst_len)), gateway: gateway,
                                  metric: Int(u32(table[Int(RTA_PRIORITY.rawValue)]) ?? 0), table: routeTable,
                                  protocolNumber: Int(info.rtm_protocol))
        return (Int(index), route)
    }

    /// The name a link message (RTM_NEWLINK or RTM_DELLINK) is about.
    static func linkName(_ header: UnsafeMutablePointer<nlmsghdr>) -> String? {
        var table = Table(repeating: nil, count: Int(mooring_IFLA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<ifinfomsg>.size), &table, Int32(mooring_IFLA_MAX), nil) >= 0 else { return nil }
        return string(table[Int(IFLA_IFNAME)])
    }

    /// The outgoing interface of a route message, any type of route (a deleted one too).
    static func routeInterface(_ header: UnsafeMutablePointer<nlmsghdr>) -> Int? {
        var table = Table(repeating: nil, count: Int(mooring_RTA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<rtmsg>.size), &table, Int32(mooring_RTA_MAX), nil) >= 0 else { return nil }
        return u32(table[Int(RTA_OIF.rawValue)]).map(Int.init)
    }

    /// An address and its link index; nil for kernel-generated IPv6 link-local addresses.
    static func address(_ header: UnsafeMutablePointer<nlmsghdr>) -> (index: Int, address: CIDR)? {
        guard Int(header.pointee.nlmsg_type) == Int(RTM_NEWADDR) else { return nil }
        var table = Table(repeating: nil, count: Int(mooring_IFA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<ifaddrmsg>.size), &table, Int32(mooring_IFA_MAX), nil) >= 0 else { return nil }
        let info = nlmsg_data(header)!.load(as: ifaddrmsg.self)
        guard let raw = bytes(table[Int(IFA_LOCAL)]) ?? bytes(table[Int(IFA_ADDRESS)]) else { return nil }
        let address: IPAddress
        switch (Int32(info.ifa_family), raw.count) {
        case (AF_INET, 4): address = IPAddress(family: .ipv4, bytes: raw)
        case (AF_INET6, 16): address = IPAddress(family: .ipv6, bytes: raw)
        default: return nil
        }
        if !address.isIPv4 && address.isLinkLocal { return nil }
        return (Int(info.ifa_index), CIDR(address: address, prefixLength: Int(info.ifa_prefixlen)))
    }
}
