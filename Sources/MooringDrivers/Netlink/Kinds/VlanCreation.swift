import CNetlink
import MooringPlan

extension NetlinkDriver {
    func queue(_ create: LinkCreation, _ config: VlanConfig, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let parentIndex = try index(of: config.parent, &batch, completed)
        let masterIndex = try create.master.map { try index(of: $0, &batch, completed) }
        try createMarked(create.name, alias: create.alias, mtu: create.mtu, create.position, create.operation, &batch,
                         alloc: { rtnl_link_vlan_alloc() }) { link in
            rtnl_link_set_link(link, parentIndex)
            _ = rtnl_link_vlan_set_id(link, UInt16(config.id))
            if let masterIndex { rtnl_link_set_master(link, masterIndex) }
        }
    }
}
