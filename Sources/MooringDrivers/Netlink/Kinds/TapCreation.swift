import MooringPlan

extension NetlinkDriver {
    /// A tap is made by the TUNSETIFF ioctl at its reserved index, then marked, enslaved and set up by one
    /// netlink request addressed by that index: from its first moment it is recognisably mooring's, and the
    /// request can only ever touch this tap.
    func queue(_ create: LinkCreation, _ config: TapConfig, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws {
        let masterIndex = try create.master.map { try index(of: $0, &batch, completed) }
        // The ioctl acts at once, so earlier requests (deleting an old device of the same name) go first.
        if batch.hasRequestsBesidesTapFinishes { try batch.flush(completed) }
        created(create.name)
        let newIndex = reserveIndex(for: create.name)
        try TapDevice.create(name: create.name, index: newIndex, config: config)
        TestHooks.tapCreated()
        let finish = LinkRequests.set(index: newIndex, alias: create.alias, master: masterIndex, mtu: create.mtu, up: true)
        batch.add([finish], for: create.position, create.operation, kind: .tapFinish)
    }
}
