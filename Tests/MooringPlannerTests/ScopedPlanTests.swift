import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// A watch round about a few links compares those links only: the others' differences wait for a full round
/// (which every round that is not about links alone is), and a stale link outside the scope is left alone.
@Suite struct ScopedPlanTests {
    @Test func onlyTheNamedLinksAreCompared() {
        let desired = DesiredState(bridges: [Fixture.bridge("br0")],
                                   microVMs: [Fixture.tapVM("a", bridge: "br0"), Fixture.tapVM("b", bridge: "br0")])
        let observed = ObservedState(links: [
            ObservedLink(index: 10, name: "br0", kind: .bridge, mac: DeviceNaming.bridgeMAC("br0"), isUp: true, alias: "mooring:Bridge/br0"),
            ObservedLink(index: 11, name: "vm-old-eth0", kind: .device, isUp: true, alias: "mooring:MicroVM/old/eth0"),
        ])
        let full = Planner(desired: desired, observed: observed).planLinks()
        #expect(Set(full.changes.compactMap(\.operation.linkName)) == ["vm-a-eth0", "vm-b-eth0", "vm-old-eth0"], "\(full.changes.map(\.summary))")
        let scoped = Planner(desired: desired, observed: observed).planLinks(scope: ["vm-a-eth0"])
        #expect(scoped.changes.map(\.summary) == ["create tap vm-a-eth0 (MicroVM a eth0) master br0"], "\(scoped.changes.map(\.summary))")
        let stale = Planner(desired: desired, observed: observed).planLinks(scope: ["vm-old-eth0"])
        #expect(stale.changes.map(\.operation.linkName) == ["vm-old-eth0"])
    }
}
