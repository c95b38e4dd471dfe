import CNetlink
import MooringModel

extension BridgeConfig: NetlinkLinkKind {
    static func read(_ data: LinkKindData?, of link: ObservedLink, name: (Int?) -> String?) -> BridgeConfig? {
        BridgeConfig(mac: link.mac)
    }

    /// A bridge follows its ports' MTUs unless its own was *changed* by a user: an MTU given at creation, or
    /// set to the value it already has, does not count. Stepping through a neighbouring value pins the
    /// declared MTU (the same two requests as `Action.pinBridgeMTU`).
    func queue(_ create: LinkCreation, on driver: NetlinkDriver, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let mtu = create.mtu
        let pin: (Int32) -> [NetlinkRequest] = { index in mtu.map { LinkRequests.pinnedMTU(index: index, mtu: $0) } ?? [] }
        try driver.createMarked(create.name, alias: create.alias, mtu: nil, create.position, create.operation, &batch,
                                alloc: { rtnl_link_alloc() }, then: pin) { link in
            _ = rtnl_link_set_type(link, "bridge")
            // Given at creation, the address is the bridge's own for good (addr_assign_type NET_ADDR_SET): it no
            // longer follows the lowest port MAC.
            if let mac, let address = LinkRequests.nlMAC(mac) { rtnl_link_set_addr(link, address); nl_addr_put(address) }
        }
    }
}
