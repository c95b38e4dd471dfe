import CNetlink
import MooringModel

extension VxlanConfig: NetlinkLinkKind {
    /// The kernel reports the unicast remote and the multicast group in one attribute.
    static func read(_ data: LinkKindData?, of link: ObservedLink, name: (Int?) -> String?) -> VxlanConfig? {
        guard let vx = data?.table(max: mooring_IFLA_VXLAN_MAX) else { return nil }
        func address(_ v4: Int, _ v6: Int) -> IPAddress? {
            if let raw = Attribute.bytes(vx[v4]), raw.count == 4, raw != [0, 0, 0, 0] { return IPAddress(family: .ipv4, bytes: raw) }
            if let raw = Attribute.bytes(vx[v6]), raw.count == 16, raw.contains(where: { $0 != 0 }) { return IPAddress(family: .ipv6, bytes: raw) }
            return nil
        }
        let peer = address(Int(IFLA_VXLAN_GROUP), Int(IFLA_VXLAN_GROUP6))
        let group = peer?.isMulticast == true ? peer : nil
        let device = Attribute.u32(vx[Int(IFLA_VXLAN_LINK)]).flatMap { $0 == 0 ? nil : Int($0) }
        return VxlanConfig(vni: Int(Attribute.u32(vx[Int(IFLA_VXLAN_ID)]) ?? 0),
                           local: address(Int(IFLA_VXLAN_LOCAL), Int(IFLA_VXLAN_LOCAL6)),
                           remote: group == nil ? peer : nil, group: group,
                           port: Attribute.u16(vx[Int(IFLA_VXLAN_PORT)]).map { Int(UInt16(bigEndian: $0)) } ?? 4789,
                           device: name(device))
    }

    func queue(_ create: LinkCreation, on driver: NetlinkDriver, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let deviceIndex = try device.map { try driver.index(of: $0, &batch, completed) }
        let masterIndex = try create.master.map { try driver.index(of: $0, &batch, completed) }
        try driver.createMarked(create.name, alias: create.alias, mtu: create.mtu, create.position, create.operation, &batch,
                                alloc: { rtnl_link_vxlan_alloc() }) { link in
            _ = rtnl_link_vxlan_set_id(link, UInt32(vni))
            if let peer = remote ?? group, let address = LinkRequests.nlAddress(peer) {
                _ = rtnl_link_vxlan_set_group(link, address); nl_addr_put(address)
            }
            if let local, let address = LinkRequests.nlAddress(local) {
                _ = rtnl_link_vxlan_set_local(link, address); nl_addr_put(address)
            }
            _ = rtnl_link_vxlan_set_port(link, UInt32(port))
            if let deviceIndex { _ = rtnl_link_vxlan_set_link(link, UInt32(deviceIndex)) }
            if let masterIndex { rtnl_link_set_master(link, masterIndex) }
        }
    }
}
