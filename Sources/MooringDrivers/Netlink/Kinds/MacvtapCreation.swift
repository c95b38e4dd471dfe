import CNetlink
import MooringPlan

extension NetlinkDriver {
    func queue(_ create: LinkCreation, _ config: MacvtapConfig, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let parentIndex = try index(of: config.parent, &batch, completed)
        // Source mode: the allowed source MACs follow the creation, by the new index (libnl builds no such attribute).
        let sources: (Int32) -> [NetlinkRequest] = { index in
            config.sourceMACs.isEmpty ? [] : [LinkRequests.macvtapSources(index: index, macs: config.sourceMACs)]
        }
        try createMarked(create.name, alias: create.alias, mtu: create.mtu, create.position, create.operation, &batch,
                         alloc: { rtnl_link_macvtap_alloc() }, then: sources) { link in
            rtnl_link_set_link(link, parentIndex)
            _ = rtnl_link_macvtap_set_mode(link, LinkDumpParser.macvtapModeValue(config.mode))
            if let mac = config.mac, let address = LinkRequests.nlMAC(mac) { rtnl_link_set_addr(link, address); nl_addr_put(address) }
        }
    }
}
