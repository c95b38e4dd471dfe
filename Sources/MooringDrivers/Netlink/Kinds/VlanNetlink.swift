import CNetlink
import MooringModel

extension VlanConfig: NetlinkLinkKind {
    static func read(_ data: LinkKindData?, of link: ObservedLink, name: (Int?) -> String?) -> VlanConfig? {
        let id = data?.table(max: mooring_IFLA_VLAN_MAX).flatMap { Attribute.u16($0[Int(IFLA_VLAN_ID)]) }
        return VlanConfig(parent: name(link.parentIndex) ?? "", id: id.map(Int.init) ?? 0)
    }

    func queue(_ create: LinkCreation, on driver: NetlinkDriver, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let parentIndex = try driver.index(of: parent, &batch, completed)
        let masterIndex = try create.master.map { try driver.index(of: $0, &batch, completed) }
        try driver.createMarked(create.name, alias: create.alias, mtu: create.mtu, create.position, create.operation, &batch,
                                alloc: { rtnl_link_vlan_alloc() }) { link in
            rtnl_link_set_link(link, parentIndex)
            _ = rtnl_link_vlan_set_id(link, UInt16(id))
            if let masterIndex { rtnl_link_set_master(link, masterIndex) }
        }
    }
}
