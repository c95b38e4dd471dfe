import CNetlink
import Foundation
import MooringModel

/// Turns RTM_NEWLINK and RTM_NEWADDR messages into observed values (libnl's attribute parser).
enum LinkDumpParser {
    private typealias Table = Attribute.Table

    /// A link with its kind's settings still to read: they refer to other links by index, which have names
    /// only once the whole dump is in (`ParsedLink.resolved`).
    static func link(_ header: UnsafeMutablePointer<nlmsghdr>) -> ParsedLink? {
        guard Int(header.pointee.nlmsg_type) == Int(RTM_NEWLINK) else { return nil }
        var table = Table(repeating: nil, count: Int(mooring_IFLA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<ifinfomsg>.size), &table, Int32(mooring_IFLA_MAX), nil) >= 0 else { return nil }
        let info = nlmsg_data(header)!.load(as: ifinfomsg.self)
        guard let name = Attribute.string(table[Int(IFLA_IFNAME)]) else { return nil }

        var kind = ObservedLinkKind.device
        var kindData: (reader: any NetlinkLinkKind.Type, data: LinkKindData?)?
        var isolated: Bool?
        var learning: Bool?
        var unicastFlood: Bool?
        if let linkInfo = Attribute.nested(table[Int(IFLA_LINKINFO)], max: Int(mooring_IFLA_INFO_MAX)) {
            if let kindName = Attribute.string(linkInfo[Int(IFLA_INFO_KIND)]) {
                kind = kindName == "veth" ? .veth : .other(kindName)
                if let reader = LinkConfig.Name.readers[kindName] { kindData = (reader, LinkKindData(linkInfo[Int(IFLA_INFO_DATA)])) }
            }
            // A bridge port's settings come as its slave data.
            if Attribute.string(linkInfo[Int(IFLA_INFO_SLAVE_KIND)]) == "bridge",
               let port = Attribute.nested(linkInfo[Int(IFLA_INFO_SLAVE_DATA)], max: Int(mooring_IFLA_BRPORT_MAX)) {
                isolated = Attribute.u8(port[Int(IFLA_BRPORT_ISOLATED)]).map { $0 != 0 } ?? false
                learning = Attribute.u8(port[Int(IFLA_BRPORT_LEARNING)]).map { $0 != 0 }
                unicastFlood = Attribute.u8(port[Int(IFLA_BRPORT_UNICAST_FLOOD)]).map { $0 != 0 }
            }
        }
        // A parent in another namespace (IFLA_LINK_NETNSID) has an index that means nothing here.
        let parent = table[Int(IFLA_LINK_NETNSID)] == nil ? Attribute.u32(table[Int(IFLA_LINK)]).map(Int.init) : nil
        let mac = Attribute.bytes(table[Int(IFLA_ADDRESS)]).flatMap { $0.count == 6 ? MACAddress(bytes: $0) : nil }
        let alias = Attribute.string(table[Int(IFLA_IFALIAS)]).flatMap { $0.isEmpty ? nil : $0 }
        var link = ObservedLink(index: Int(info.ifi_index), name: name, kind: kind,
                                masterIndex: Attribute.u32(table[Int(IFLA_MASTER)]).flatMap { $0 == 0 ? nil : Int($0) },
                                parentIndex: parent.flatMap { $0 == Int(info.ifi_index) || $0 == 0 ? nil : $0 },
                                mac: mac, mtu: Int(Attribute.u32(table[Int(IFLA_MTU)]) ?? 0),
                                isUp: info.ifi_flags & UInt32(IFF_UP) != 0, alias: alias,
                                group: Attribute.u32(table[Int(IFLA_GROUP)]) ?? 0)
        link.isolated = isolated
        link.learning = learning
        link.unicastFlood = unicastFlood
        return ParsedLink(link: link, kindData: kindData)
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
              let bytes = Attribute.bytes(table[Int(NDA_LLADDR)]), bytes.count == 6 else { return nil }
        return (Int(info.ndm_ifindex), MACAddress(bytes: bytes))
    }

    /// A unicast route with a single output link; multipath, local, broadcast and cached routes are left out.
    static func route(_ header: UnsafeMutablePointer<nlmsghdr>) -> (index: Int, route: ObservedRoute)? {
        guard Int(header.pointee.nlmsg_type) == Int(RTM_NEWROUTE) else { return nil }
        var table = Table(repeating: nil, count: Int(mooring_RTA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<rtmsg>.size), &table, Int32(mooring_RTA_MAX), nil) >= 0 else { return nil }
        let info = nlmsg_data(header)!.load(as: rtmsg.self)
        guard info.rtm_type == UInt8(RTN_UNICAST), let index = Attribute.u32(table[Int(RTA_OIF.rawValue)]) else { return nil }
        let family: IPAddress.Family
        switch Int32(info.rtm_family) {
        case AF_INET: family = .ipv4
        case AF_INET6: family = .ipv6
        default: return nil
        }
        let width = family == .ipv4 ? 4 : 16
        let destination = Attribute.bytes(table[Int(RTA_DST.rawValue)]).map { IPAddress(family: family, bytes: $0) }
            ?? IPAddress(family: family, bytes: [UInt8](repeating: 0, count: width))
        let gateway = Attribute.bytes(table[Int(RTA_GATEWAY.rawValue)]).flatMap { $0.count == width ? IPAddress(family: family, bytes: $0) : nil }
        let routeTable = Attribute.u32(table[Int(RTA_TABLE.rawValue)]).map(Int.init) ?? Int(info.rtm_table)
        let route = ObservedRoute(destination: CIDR(address: destination, prefixLength: Int(info.rtm_dst_len)), gateway: gateway,
                                  metric: Int(Attribute.u32(table[Int(RTA_PRIORITY.rawValue)]) ?? 0), table: routeTable,
                                  protocolNumber: Int(info.rtm_protocol))
        return (Int(index), route)
    }

    /// The name a link message (RTM_NEWLINK or RTM_DELLINK) is about.
    static func linkName(_ header: UnsafeMutablePointer<nlmsghdr>) -> String? {
        var table = Table(repeating: nil, count: Int(mooring_IFLA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<ifinfomsg>.size), &table, Int32(mooring_IFLA_MAX), nil) >= 0 else { return nil }
        return Attribute.string(table[Int(IFLA_IFNAME)])
    }

    /// The outgoing interface of a route message, any type of route (a deleted one too).
    static func routeInterface(_ header: UnsafeMutablePointer<nlmsghdr>) -> Int? {
        var table = Table(repeating: nil, count: Int(mooring_RTA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<rtmsg>.size), &table, Int32(mooring_RTA_MAX), nil) >= 0 else { return nil }
        return Attribute.u32(table[Int(RTA_OIF.rawValue)]).map(Int.init)
    }

    /// An address and its link index; nil for kernel-generated IPv6 link-local addresses.
    static func address(_ header: UnsafeMutablePointer<nlmsghdr>) -> (index: Int, address: CIDR)? {
        guard Int(header.pointee.nlmsg_type) == Int(RTM_NEWADDR) else { return nil }
        var table = Table(repeating: nil, count: Int(mooring_IFA_MAX) + 1)
        guard nlmsg_parse(header, Int32(MemoryLayout<ifaddrmsg>.size), &table, Int32(mooring_IFA_MAX), nil) >= 0 else { return nil }
        let info = nlmsg_data(header)!.load(as: ifaddrmsg.self)
        guard let raw = Attribute.bytes(table[Int(IFA_LOCAL)]) ?? Attribute.bytes(table[Int(IFA_ADDRESS)]) else { return nil }
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

/// A link as its message reported it, its kind's settings read by `resolved` once every link's name is known.
struct ParsedLink {
    var link: ObservedLink
    fileprivate var kindData: (reader: any NetlinkLinkKind.Type, data: LinkKindData?)?

    var index: Int { link.index }
    var name: String { link.name }

    /// The link, its kind read by the kind's own reader (`NetlinkLinkKind.read`); a kind mooring makes in a
    /// form it does not make stays `.other`.
    func resolved(names: [Int: String]) -> ObservedLink {
        guard let (reader, data) = kindData else { return link }
        var link = link
        if let config = reader.read(data, of: link, name: { $0.flatMap { names[$0] } })?.config { link.kind = .made(config) }
        return link
    }
}
