import CNetlink
import Foundation
import MooringModel

/// Builds one rtnetlink request with libnl's message API, and hands back its bytes for batching.
final class MessageBuilder {
    private let message: OpaquePointer

    init(type: Int32, flags: Int32 = 0) {
        message = nlmsg_alloc_simple(type, flags)
    }

    /// Adopts a message libnl-route built (e.g. `rtnl_link_build_add_request`).
    init(adopting message: OpaquePointer) {
        self.message = message
    }

    deinit { nlmsg_free(message) }

    func header<T>(_ value: T) {
        var copy = value
        _ = nlmsg_append(message, &copy, MemoryLayout<T>.size, Int32(NLMSG_ALIGNTO))
    }

    func string(_ type: Int32, _ value: String) { _ = nla_put_string(message, type, value) }
    func u32(_ type: Int32, _ value: UInt32) { _ = nla_put_u32(message, type, value) }
    func bytes(_ type: Int32, _ value: [UInt8]) {
        _ = value.withUnsafeBytes { nla_put(message, type, Int32($0.count), $0.baseAddress) }
    }

    /// Attributes nested in `type`.
    func nested(_ type: Int32, _ body: () -> Void) {
        let start = nla_nest_start(message, type)
        body()
        if let start { _ = nla_nest_end(message, start) }
    }

    var request: NetlinkRequest {
        let header = nlmsg_hdr(message)!
        let length = Int(header.pointee.nlmsg_len)
        let bytes = [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(header), count: length))
        return NetlinkRequest(bytes: bytes)
    }
}

/// The rtnetlink requests mooring sends. Links are addressed by name or index; masters and parents by index.
enum LinkRequests {
    static func ifinfo(index: Int32 = 0, up: Bool? = nil) -> ifinfomsg {
        var info = ifinfomsg()
        info.ifi_family = UInt8(AF_UNSPEC)
        info.ifi_index = index
        if let up {
            info.ifi_change = UInt32(IFF_UP)
            info.ifi_flags = up ? UInt32(IFF_UP) : 0
        }
        return info
    }

    /// RTM_SETLINK on an existing link, found by name (index 0) or by index.
    static func set(name: String? = nil, index: Int32 = 0, alias: String? = nil,
                    master: Int32? = nil, mtu: Int? = nil, mac: MACAddress? = nil, up: Bool? = nil,
                    group: UInt32? = nil) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_SETLINK))
        builder.header(ifinfo(index: index, up: up))
        if let name, index == 0 { builder.string(Int32(IFLA_IFNAME), name) }
        if let alias { builder.string(Int32(IFLA_IFALIAS), alias) }
        if let master { builder.u32(Int32(IFLA_MASTER), UInt32(bitPattern: master)) }
        if let mtu { builder.u32(Int32(IFLA_MTU), UInt32(mtu)) }
        if let mac { builder.bytes(Int32(IFLA_ADDRESS), mac.bytes) }
        if let group { builder.u32(Int32(IFLA_GROUP), group) }
        return builder.request
    }

    /// A bridge port's IFLA_BRPORT_ISOLATED, as `ip link set X type bridge_slave isolated on` sends it.
    static func portIsolation(name: String, isolated: Bool) -> NetlinkRequest {
        bridgePort(name: name, [IFLA_BRPORT_ISOLATED: isolated])
    }

    /// A bridge port's IFLA_BRPORT_LEARNING and IFLA_BRPORT_UNICAST_FLOOD, together.
    static func portLearning(name: String, learning: Bool) -> NetlinkRequest {
        bridgePort(name: name, [IFLA_BRPORT_LEARNING: learning, IFLA_BRPORT_UNICAST_FLOOD: learning])
    }

    /// Bridge port flags: an RTM_NEWLINK (RTM_SETLINK ignores IFLA_LINKINFO) whose slave data the port's bridge
    /// applies, one u8 attribute per flag.
    private static func bridgePort(name: String, _ flags: [Int: Bool]) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_NEWLINK))
        builder.header(ifinfo())
        builder.string(Int32(IFLA_IFNAME), name)
        builder.nested(Int32(IFLA_LINKINFO)) {
            builder.string(Int32(IFLA_INFO_SLAVE_KIND), "bridge")
            builder.nested(Int32(IFLA_INFO_SLAVE_DATA)) {
                for (attribute, on) in flags.sorted(by: { $0.key < $1.key }) { builder.bytes(Int32(attribute), [on ? 1 : 0]) }
            }
        }
        return builder.request
    }

    /// RTM_NEWNEIGH (create or replace: a learned entry for the MAC becomes the static one) or RTM_DELNEIGH of
    /// a static, sticky entry in the bridge of port `index`, as `bridge fdb replace MAC dev PORT master static sticky`
    /// sends it.
    static func staticFDB(add: Bool, index: Int32, mac: MACAddress) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(add ? RTM_NEWNEIGH : RTM_DELNEIGH), flags: add ? Int32(NLM_F_CREATE | NLM_F_REPLACE) : 0)
        var info = ndmsg()
        info.ndm_family = UInt8(AF_BRIDGE)
        info.ndm_ifindex = index
        info.ndm_state = UInt16(NUD_NOARP)
        // Sticky: a static entry without it still roams to whichever port sends from that MAC.
        info.ndm_flags = UInt8(NTF_MASTER | NTF_STICKY)
        builder.header(info)
        builder.bytes(Int32(NDA_LLADDR), mac.bytes)
        return builder.request
    }

    /// Every bridge forwarding entry of every bridge, in one dump.
    static func dumpFDB() -> NetlinkRequest {
        var info = ndmsg()
        info.ndm_family = UInt8(AF_BRIDGE)
        let builder = MessageBuilder(type: Int32(RTM_GETNEIGH))
        builder.header(info)
        return builder.request
    }

    /// Two RTM_SETLINKs that leave `mtu` marked as set by the user (Action.pinBridgeMTU): through a neighbouring
    /// value first, since setting the MTU a link already has is a no-op in the kernel.
    static func pinnedMTU(name: String? = nil, index: Int32 = 0, mtu: Int) -> [NetlinkRequest] {
        [set(name: name, index: index, mtu: mtu > 68 ? mtu - 1 : mtu + 1), set(name: name, index: index, mtu: mtu)]
    }

    /// RTM_NEWLINK on an existing macvtap (its changelink): its allowed source MACs replaced by `macs`
    /// (MACVLAN_MACADDR_SET). libnl-route has no call for these attributes on macvtap links.
    static func macvtapSources(index: Int32, macs: [MACAddress]) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_NEWLINK))
        builder.header(ifinfo(index: index))
        builder.nested(Int32(IFLA_LINKINFO)) {
            builder.string(Int32(IFLA_INFO_KIND), "macvtap")
            builder.nested(Int32(IFLA_INFO_DATA)) {
                builder.u32(Int32(IFLA_MACVLAN_MACADDR_MODE), 3 /* MACVLAN_MACADDR_SET */)
                builder.nested(Int32(IFLA_MACVLAN_MACADDR_DATA)) {
                    for mac in macs { builder.bytes(Int32(IFLA_MACVLAN_MACADDR), mac.bytes) }
                }
            }
        }
        return builder.request
    }

    static func delete(name: String) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_DELLINK))
        builder.header(ifinfo())
        builder.string(Int32(IFLA_IFNAME), name)
        return builder.request
    }

    /// Deletes every link in `group` at once: one unregister batch, one RCU grace period for all of them.
    static func deleteGroup(_ group: UInt32) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_DELLINK))
        builder.header(ifinfo())
        builder.u32(Int32(IFLA_GROUP), group)
        return builder.request
    }

    static func address(add: Bool, index: Int32, address: CIDR) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(add ? RTM_NEWADDR : RTM_DELADDR),
                                     flags: add ? Int32(NLM_F_CREATE | NLM_F_REPLACE) : 0)
        var info = ifaddrmsg()
        let v4 = address.address.isIPv4
        info.ifa_family = UInt8(v4 ? AF_INET : AF_INET6)
        info.ifa_prefixlen = UInt8(address.prefixLength)
        info.ifa_index = UInt32(index)
        info.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        builder.header(info)
        builder.bytes(Int32(IFA_LOCAL), address.address.bytes)
        builder.bytes(Int32(IFA_ADDRESS), address.address.bytes)
        // A hypervisor bridge's IPv6 address should work at once, not after duplicate address detection.
        if add && !v4 { builder.u32(Int32(IFA_FLAGS), UInt32(IFA_F_NODAD)) }
        return builder.request
    }

    /// One link by name (RTM_GETLINK without NLM_F_DUMP): its RTM_NEWLINK, or ENODEV.
    static func get(name: String) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_GETLINK))
        builder.header(ifinfo())
        builder.string(Int32(IFLA_IFNAME), name)
        builder.u32(Int32(IFLA_EXT_MASK), 1 << 3 /* RTEXT_FILTER_SKIP_STATS */)
        return builder.request
    }

    static func dumpLinks() -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_GETLINK))
        builder.header(ifinfo())
        builder.u32(Int32(IFLA_EXT_MASK), 1 << 3 /* RTEXT_FILTER_SKIP_STATS */)
        return builder.request
    }

    static func dumpRoutes() -> NetlinkRequest { dumpAllFamilies(Int32(RTM_GETROUTE), rtmsg()) }

    static func dumpAddresses() -> NetlinkRequest { dumpAllFamilies(Int32(RTM_GETADDR), ifaddrmsg()) }

    /// One interface's addresses, both families (honoured on a strict socket: NetlinkSocket's `strict`).
    static func dumpAddresses(index: Int32) -> NetlinkRequest {
        var info = ifaddrmsg()
        info.ifa_index = UInt32(bitPattern: index)
        return dumpAllFamilies(Int32(RTM_GETADDR), info)
    }

    /// The routes out of one interface, both families (honoured on a strict socket).
    static func dumpRoutes(outputInterface index: Int32) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(RTM_GETROUTE))
        builder.header(rtmsg())
        builder.u32(Int32(RTA_OIF.rawValue), UInt32(bitPattern: index))
        return builder.request
    }

    /// A dump of IPv4 and IPv6 at once: a zeroed header's family byte (the first, in both `rtmsg` and
    /// `ifaddrmsg`) is AF_UNSPEC.
    private static func dumpAllFamilies<Header>(_ type: Int32, _ header: Header) -> NetlinkRequest {
        let builder = MessageBuilder(type: type)
        builder.header(header)
        return builder.request
    }

    /// RTM_NEWROUTE (exclusive: never replaces a route someone else made) or RTM_DELROUTE (which matches the
    /// protocol too, so it never removes a route someone else made with the same key) for one of mooring's
    /// routes, marked with its protocol number.
    static func route(add: Bool, index: Int32, route: DesiredRoute) -> NetlinkRequest {
        let builder = MessageBuilder(type: Int32(add ? RTM_NEWROUTE : RTM_DELROUTE),
                                     flags: add ? Int32(NLM_F_CREATE | NLM_F_EXCL) : 0)
        var info = rtmsg()
        let v4 = route.destination.address.isIPv4
        info.rtm_family = UInt8(v4 ? AF_INET : AF_INET6)
        info.rtm_dst_len = UInt8(route.destination.prefixLength)
        info.rtm_table = UInt8(route.table < 256 ? route.table : Int(RT_TABLE_UNSPEC.rawValue))
        info.rtm_protocol = UInt8(route.protocolNumber)
        info.rtm_scope = UInt8(route.gateway == nil ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue)
        info.rtm_type = UInt8(RTN_UNICAST)
        builder.header(info)
        if route.destination.prefixLength > 0 { builder.bytes(Int32(RTA_DST.rawValue), route.destination.network.bytes) }
        if let gateway = route.gateway { builder.bytes(Int32(RTA_GATEWAY.rawValue), gateway.bytes) }
        builder.u32(Int32(RTA_OIF.rawValue), UInt32(bitPattern: index))
        if route.metric != 0 { builder.u32(Int32(RTA_PRIORITY.rawValue), UInt32(route.metric)) }
        builder.u32(Int32(RTA_TABLE.rawValue), UInt32(route.table))
        return builder.request
    }

    /// A create request built with libnl-route's link objects, which know each kind's attributes.
    static func create(_ configure: (OpaquePointer) throws -> Void, alloc: () -> OpaquePointer?) throws -> NetlinkRequest {
        guard let link = alloc() else { throw DriverError("netlink: cannot allocate a link object") }
        defer { rtnl_link_put(link) }
        try configure(link)
        var message: OpaquePointer?
        let rc = rtnl_link_build_add_request(link, Int32(NLM_F_CREATE | NLM_F_EXCL), &message)
        guard rc >= 0, let message else { throw DriverError("netlink: cannot build request: \(String(cString: nl_geterror(rc)))") }
        return MessageBuilder(adopting: message).request
    }

    static func nlAddress(_ address: IPAddress) -> OpaquePointer? {
        address.bytes.withUnsafeBytes { raw in
            nl_addr_build(address.isIPv4 ? AF_INET : AF_INET6, raw.baseAddress, raw.count)
        }
    }

    static func nlMAC(_ mac: MACAddress) -> OpaquePointer? {
        mac.bytes.withUnsafeBytes { raw in nl_addr_build(AF_LLC, raw.baseAddress, raw.count) }
    }
}
