import CNetlink
import MooringPlan

extension NetlinkDriver {
    func queue(_ create: LinkCreation, _ config: VxlanConfig, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let deviceIndex = try config.device.map { try index(of: $0, &batch, completed) }
        let masterIndex = try create.master.map { try index(of: $0, &batch, completed) }
        try createMarked(create.name, alias: create.alias, mtu: create.mtu, create.position, create.operation, &batch,
                         alloc: { rtnl_link_vxlan_alloc() }) { link in
            _ = rtnl_link_vxlan_set_id(link, UInt32(config.vni))
            if let peer = config.remote ?? config.group, let address = LinkRequests.nlAddress(peer) {
                _ = rtnl_link_vxlan_set_group(link, address); nl_addr_put(address)
            }
            if let local = config.local, let address = LinkRequests.nlAddress(local) {
                _ = rtnl_link_vxlan_set_local(link, address); nl_addr_put(address)
            }
            _ = rtnl_link_vxlan_set_port(link, UInt32(config.port))
            if let deviceIndex { _ = rtnl_link_vxlan_set_link(link, UInt32(deviceIndex)) }
            if let masterIndex { rtnl_link_set_master(link, masterIndex) }
        }
    }
}
