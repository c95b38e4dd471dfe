import CNetlink
import MooringModel

extension TapConfig: NetlinkLinkKind {
    static let kernelKind = "tun"

    /// A tun device (not a tap) is not mooring's kind. An unset owner or group is reported as (uid_t)-1.
    static func read(_ data: LinkKindData?, of link: ObservedLink, name: (Int?) -> String?) -> TapConfig? {
        guard let tun = data?.table(max: mooring_IFLA_TUN_MAX), Attribute.u8(tun[Int(IFLA_TUN_TYPE)]) == UInt8(IFF_TAP) else { return nil }
        func flag(_ attribute: Int) -> Bool { Attribute.u8(tun[attribute]) == 1 }
        func id(_ attribute: Int) -> UInt32? { Attribute.u32(tun[attribute]).flatMap { $0 == UInt32.max ? nil : $0 } }
        return TapConfig(vnetHeader: flag(Int(IFLA_TUN_VNET_HDR)), multiQueue: flag(Int(IFLA_TUN_MULTI_QUEUE)),
                         owner: id(Int(IFLA_TUN_OWNER)), group: id(Int(IFLA_TUN_GROUP)))
    }

    /// A tap is made by the TUNSETIFF ioctl at its reserved index, then marked, enslaved and set up by one
    /// netlink request addressed by that index: from its first moment it is recognisably mooring's, and the
    /// request can only ever touch this tap.
    func queue(_ create: LinkCreation, on driver: NetlinkDriver, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let masterIndex = try create.master.map { try driver.index(of: $0, &batch, completed) }
        // The ioctl acts at once, so earlier requests (deleting an old device of the same name) go first.
        if batch.hasRequestsBesidesTapFinishes { try batch.flush(completed) }
        driver.created(create.name)
        let newIndex = driver.reserveIndex(for: create.name)
        try TapDevice.create(name: create.name, index: newIndex, config: self)
        TestHooks.tapCreated()
        let finish = LinkRequests.set(index: newIndex, alias: create.alias, master: masterIndex, mtu: create.mtu, up: true)
        batch.add([finish], for: create.position, create.operation, kind: .tapFinish)
    }
}
