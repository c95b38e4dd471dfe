import CNetlink
import MooringModel

extension MacvtapConfig: NetlinkLinkKind {
    /// A passthru macvtap keeps its parent's MAC, which is not its own setting. A parent in another namespace
    /// reads as an empty name.
    static func read(_ data: LinkKindData?, of link: ObservedLink, name: (Int?) -> String?) -> MacvtapConfig? {
        let macvlan = data?.table(max: mooring_IFLA_MACVLAN_MAX)
        guard let mode = macvlan.flatMap({ Attribute.u32($0[Int(IFLA_MACVLAN_MODE)]) }).flatMap(modeByValue) else { return nil }
        return MacvtapConfig(parent: name(link.parentIndex) ?? "", mode: mode, mac: mode == .passthru ? nil : link.mac,
                             sourceMACs: macvlan.map { sourceMACs($0[Int(IFLA_MACVLAN_MACADDR_DATA)]) } ?? [])
    }

    func queue(_ create: LinkCreation, on driver: NetlinkDriver, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let parentIndex = try driver.index(of: parent, &batch, completed)
        // Source mode: the allowed source MACs follow the creation, by the new index (libnl builds no such attribute).
        let sourceMACs = sourceMACs
        let sources: (Int32) -> [NetlinkRequest] = { index in
            sourceMACs.isEmpty ? [] : [LinkRequests.macvtapSources(index: index, macs: sourceMACs)]
        }
        try driver.createMarked(create.name, alias: create.alias, mtu: create.mtu, create.position, create.operation, &batch,
                                alloc: { rtnl_link_macvtap_alloc() }, then: sources) { link in
            rtnl_link_set_link(link, parentIndex)
            _ = rtnl_link_macvtap_set_mode(link, Self.modeValue(mode))
            if let mac, let address = LinkRequests.nlMAC(mac) { rtnl_link_set_addr(link, address); nl_addr_put(address) }
        }
    }

    /// The nested IFLA_MACVLAN_MACADDR entries of IFLA_MACVLAN_MACADDR_DATA, sorted.
    private static func sourceMACs(_ data: UnsafeMutablePointer<nlattr>?) -> [MACAddress] {
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

    private static func modeByValue(_ raw: UInt32) -> MacvtapMode? {
        MacvtapMode.allCases.first { modeValue($0) == raw }
    }

    /// MACVLAN_MODE_*.
    static func modeValue(_ mode: MacvtapMode) -> UInt32 {
        switch mode {
        case .private: return 1
        case .vepa: return 2
        case .bridge: return 4
        case .passthru: return 8
        case .source: return 16
        }
    }
}
