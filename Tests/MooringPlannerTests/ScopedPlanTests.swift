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

    /// A host interface enslaved by hand to mooring's bridge is released by a full plan; a scoped plan leaves it
    /// unless its events named it (it is no link a manifest uses, so its own events start no round).
    @Test func aScopedPlanReleasesOnlyNamedUndeclaredPorts() {
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [Fixture.tapVM("a", bridge: "br0")])
        let observed = ObservedState(links: [
            ObservedLink(index: 10, name: "br0", kind: .bridge, mac: DeviceNaming.bridgeMAC("br0"), isUp: true, alias: "mooring:Bridge/br0"),
            ObservedLink(index: 12, name: "eth9", kind: .device, masterIndex: 10, isUp: true),
        ])
        let release = "port eth9: release from bridge br0"
        #expect(Planner(desired: desired, observed: observed).planLinks().changes.map(\.summary).contains(release))
        #expect(!Planner(desired: desired, observed: observed).planLinks(scope: ["vm-a-eth0"]).changes.map(\.summary).contains(release))
        #expect(Planner(desired: desired, observed: observed).planLinks(scope: ["eth9"]).changes.map(\.summary).contains(release))
    }

    /// What the manifests make, kept across a watch loop's rounds, plans the same as working it out again; kept
    /// for another VMM identity (the taps' owner), it is not used.
    @Test func keptDesiredLinksPlanTheSameAndAnUnfitOneIsIgnored() {
        var vm = Fixture.tapVM("a", bridge: "br0")
        vm.vmm = .qemuMicrovm
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [vm])
        var observed = ObservedState(links: [
            ObservedLink(index: 10, name: "br0", kind: .bridge, mac: DeviceNaming.bridgeMAC("br0"), isUp: true, alias: "mooring:Bridge/br0"),
        ])
        observed.capabilities.vmmIdentity = VMMIdentity(user: "mooring-vmm", uid: 990, gid: 990)
        let fresh = Planner(desired: desired, observed: observed).planLinks().changes.map(\.summary)
        let kept = DesiredLinks(desired, identities: VMMIdentityMap.of(desired, observed))
        #expect(Planner(desired: desired, observed: observed, desiredLinks: kept).planLinks().changes.map(\.summary) == fresh)
        let stale = DesiredLinks(desired, identities: VMMIdentityMap(shared: nil))
        #expect(!stale.fit(VMMIdentityMap.of(desired, observed)))
        #expect(Planner(desired: desired, observed: observed, desiredLinks: stale).planLinks().changes.map(\.summary) == fresh)
        #expect(fresh.contains { $0.contains("owner 990") }, "\(fresh)")
    }
}
