import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// `apply --try`'s way back: from the host as it is to the host as it was, for what the tried plan touched.
@Suite struct RevertPlannerTests {
    let any = CIDR("0.0.0.0/0")!

    /// The host before: eno1 with the address and a default route from boot (proto 3).
    func hostBefore() -> Fixture.Links {
        var links = Fixture.Links()
        links.add("eno1", .device, addresses: ["192.0.2.10/24"])
        links.add("other0", .device, addresses: ["203.0.113.1/24"])
        links.links[0].routes = [ObservedRoute(destination: any, gateway: IPAddress("192.0.2.1"), metric: 0, table: 254, protocolNumber: 3)]
        links.links[1].routes = [ObservedRoute(destination: CIDR("198.51.100.0/24")!, gateway: IPAddress("203.0.113.2"), metric: 0, table: 254, protocolNumber: 3)]
        return links
    }

    func triedUplinkMove(_ before: ObservedState) -> Plan {
        var bridge = Fixture.bridge("br0", addresses: ["192.0.2.10/24"], ports: ["eno1"])
        bridge.routes = [DesiredRoute(destination: any, gateway: IPAddress("192.0.2.99"))]
        return Planner(desired: DesiredState(bridges: [bridge]), observed: before).plan()
    }

    /// After the move: br0 made, eno1 enslaved and bare (the kernel dropped its route), the wrong gateway on br0.
    @Test func anUplinkMoveIsUndoneAndTheHostsRouteComesBackAsTheHosts() {
        let before = hostBefore()
        var now = before
        now.add("br0", .bridge, owner: "Bridge/br0", addresses: ["192.0.2.10/24"])
        now.links[0].masterIndex = 3
        now.links[0].addresses = []
        now.links[0].routes = []
        now.links[2].routes = [ObservedRoute(destination: any, gateway: IPAddress("192.0.2.99"), metric: 0, table: 254, protocolNumber: 193)]
        let tried = triedUplinkMove(before.state)
        #expect(RevertPlanner.irreversible(tried, before: before.state).isEmpty)
        let revert = RevertPlanner(before: before.state, now: now.state, tried: tried).plan()
        #expect(revert.summaries == ["delete bridge br0 (made by the trial)", "eno1: master none again",
                                     "eno1: add address 192.0.2.10/24 again", "eno1: add route default via 192.0.2.1 proto boot again"])
        // The route goes back with the host's protocol, so mooring never owns (or later deletes) the host's route.
        let routes = revert.changes.compactMap { change -> DesiredRoute? in
            if case let .addRoute(_, route) = change.operation { route } else { nil }
        }
        #expect(routes.map(\.protocolNumber) == [3])
        // Nothing of other0's: the trial did not touch it.
        #expect(!revert.summaries.contains { $0.contains("other0") })
        // Back as it was, nothing is left to do.
        #expect(RevertPlanner(before: before.state, now: before.state, tried: tried).plan().changes.isEmpty)
    }

    /// A trial that failed half-way (the bridge made, nothing else) is undone just as far.
    @Test func aHalfAppliedTrialIsUndoneAsFarAsItWent() {
        let before = hostBefore()
        var now = before
        now.add("br0", .bridge, owner: "Bridge/br0")
        let revert = RevertPlanner(before: before.state, now: now.state, tried: triedUplinkMove(before.state)).plan()
        #expect(revert.summaries == ["delete bridge br0 (made by the trial)"])
    }

    /// A link mooring made is made again when the trial deleted it; a bridge someone else made is never deleted.
    @Test func deletedLinksComeBackAndForeignOnesAreNotDeleted() {
        var before = Fixture.Links()
        before.add("br9", .bridge, owner: "Bridge/br9", addresses: ["10.9.0.1/24"])
        let tried = Planner(desired: DesiredState(), observed: before.state).plan()
        #expect(tried.summaries.contains { $0.hasPrefix("delete bridge br9") }, "\(tried.summaries)")
        let revert = RevertPlanner(before: before.state, now: ObservedState(), tried: tried).plan()
        #expect(revert.summaries == ["create bridge br9 again (deleted by the trial)", "set br9 up", "br9: add address 10.9.0.1/24 again"])

        var foreign = Fixture.Links()
        foreign.add("br9", .bridge)
        let made = Plan(changes: [Change(resource: .link("br9"), group: .stale, action: .create, summary: "create bridge br9", reason: .noLongerInManifests,
                                         operation: .createLink(name: "br9", alias: "", master: nil, mtu: nil, config: .bridge(BridgeConfig())),
                                         phase: .createBridges)])
        #expect(RevertPlanner(before: ObservedState(), now: foreign.state, tried: made).plan().changes.isEmpty)
    }

    /// Changes a revert could not undo are named before anything is changed.
    @Test func stoppedUnitsAndUnknownLinksCannotBeTried() {
        var before = Fixture.Links()
        before.add("veth7", .veth, owner: "Bridge/br0")
        let plan = Plan(changes: [
            Change(resource: .unit("mooring-vm-a.service"), group: .stale, action: .stop, summary: "stop MicroVM a", reason: .noLongerInManifests,
                   operation: .stopUnit(name: "mooring-vm-a.service", runDirectory: nil), phase: .stopUnits),
            Change(resource: .link("veth7"), group: .stale, action: .delete, summary: "delete veth veth7", reason: .noLongerInManifests,
                   operation: .deleteLink(name: "veth7"), phase: .deletePorts),
        ])
        let problems = RevertPlanner.irreversible(plan, before: before.state)
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.first?.hasPrefix("stop MicroVM a: mooring keeps no copy") == true)
    }

    /// DNS a trial set on an existing bridge goes back to what resolved had before.
    @Test func dnsComesBack() {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0")
        var before = links.state
        before.nameservers["br0"] = Nameservers(addresses: [IPAddress("192.0.2.53")!])
        var bridge = Fixture.bridge("br0")
        bridge.nameservers = Nameservers(addresses: [IPAddress("192.0.2.99")!])
        let tried = Planner(desired: DesiredState(bridges: [bridge]), observed: before).plan()
        var now = before
        now.nameservers["br0"] = bridge.nameservers
        #expect(RevertPlanner(before: before, now: now, tried: tried).plan().summaries == ["br0: DNS 192.0.2.53 again"])
    }

    /// The guests' filter a trial made goes with the trial; one it replaced comes back.
    @Test func theGuestsFilterComesBack() {
        var made = NftTable(chains: [NftChain(name: "from_guests", type: "filter", hook: "prerouting", priority: -200)])
        made.family = NftTable.bridgeFamily
        let tried = Plan(changes: [Change(resource: .guestFilter, group: .stale, action: .create, summary: "create table bridge mooring", reason: .noLongerInManifests,
                                          operation: .replaceGuestFilter(made), phase: .nftables)])
        var now = ObservedState()
        now.guestFilter = made
        #expect(RevertPlanner(before: ObservedState(), now: now, tried: tried).plan().summaries == ["delete table bridge mooring (made by the trial)"])
        var before = ObservedState()
        before.guestFilter = NftTable()
        #expect(RevertPlanner(before: before, now: now, tried: tried).plan().summaries == ["put table bridge mooring back as it was"])
    }
}
