import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// Which taps the guests' filter covers, and what it holds for them.
@Suite struct GuestFilterPlannerTests {
    static func vm(_ name: String, vmm: VMMKind = .qemuMicrovm, antiSpoofing: Bool = true, addresses: [String]) -> DesiredMicroVM {
        var interface = DesiredInterface(guestDeviceName: "eth0", type: .tap, hostDeviceName: "vm-\(name)-eth0",
                                         mac: MACAddress("02:00:00:00:00:0\(name.count)")!, addresses: addresses.compactMap(CIDR.init), bridge: "br0")
        interface.antiSpoofing = antiSpoofing
        return DesiredMicroVM(origin: Fixture.origin(.microVM, name), name: name, vmm: vmm, interfaces: [interface])
    }

    @Test func theTableHoldsEachGuestsMACAndAddressesKeyedByPort() throws {
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [
            Self.vm("a", addresses: ["10.0.0.10/24", "fd12::10/64"]), Self.vm("bb", addresses: []),
            Self.vm("off", antiSpoofing: false, addresses: ["10.0.0.12/24"]),
        ])
        let changes = GuestFilterPlanner(desired: desired, observed: ObservedState()).plan()
        #expect(changes.map(\.summary) == ["create table bridge mooring: anti-spoofing for 2 guest interfaces"])
        guard case let .replaceGuestFilter(table) = changes.first?.operation else { Issue.record("no table"); return }
        let sets = Dictionary(uniqueKeysWithValues: table.sets.map { ($0.name, $0.elements.map(\.canonicalText)) })
        #expect(table.family == "bridge" && table.chains.first?.hook == "prerouting" && table.chains.first?.priority == -200)
        #expect(sets["guest_ports"] == ["\"vm-a-eth0\"", "\"vm-bb-eth0\""])
        #expect(sets["ipv4_ports"] == ["\"vm-a-eth0\""], "a guest without a declared address is held to its MAC only")
        #expect(sets["guest_ipv6"] == ["{\"concat\":[\"vm-a-eth0\",\"fd12::10\"]}"])
        // The same table observed: nothing to do; none wanted any more: deleted.
        var observed = ObservedState()
        observed.guestFilter = table
        #expect(GuestFilterPlanner(desired: desired, observed: observed).plan().isEmpty)
        #expect(GuestFilterPlanner(desired: DesiredState(), observed: observed).plan().map(\.summary) == ["delete table bridge mooring (no guest is filtered any more)"])
    }
}
