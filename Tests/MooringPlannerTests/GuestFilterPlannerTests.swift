import MooringModel
import MooringPlan
@testable import MooringPlanner
import MooringReports
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
        // Made from every MicroVM's interfaces: its own heading, not "not in the manifests".
        #expect(changes.first?.group == .guestFilter)
        #expect(TextRenderer(style: .plain).changeLines(changes).first == "the guests' filter (from the MicroVMs' interfaces)")
        guard case let .replaceGuestFilter(table) = changes.first?.operation else { Issue.record("no table"); return }
        let sets = Dictionary(uniqueKeysWithValues: table.sets.map { ($0.name, $0.elements.map(\.canonicalText)) })
        #expect(table.family == "bridge" && table.chains.first?.hook == "prerouting" && table.chains.first?.priority == -200)
        #expect(sets["guest_ports"] == ["\"vm-a-eth0\"", "\"vm-bb-eth0\""])
        #expect(sets["ipv4_ports"] == nil && sets["ipv6_ports"] == nil, "every port is checked in every family")
        #expect(sets["guest_ipv4"] == ["{\"concat\":[\"vm-a-eth0\",\"10.0.0.10\"]}"], "a guest without an IPv4 address may claim none")
        // Its declared addresses and its own (EUI-64) link-local address, never another fe80::.
        #expect(sets["guest_ipv6"] == ["{\"concat\":[\"vm-a-eth0\",\"fd12::10\"]}", "{\"concat\":[\"vm-a-eth0\",\"fe80::ff:fe00:1\"]}",
                                       "{\"concat\":[\"vm-bb-eth0\",\"fe80::ff:fe00:2\"]}"])
        #expect(table.rules.filter { $0.chain == GuestFilterPlanner.advertsChain }.count == 2, "each port's advertisements are checked")
        for name in [GuestFilterPlanner.arpChain, GuestFilterPlanner.ipv4Chain, GuestFilterPlanner.ipv6Chain] {
            #expect(table.rules.last { $0.chain == name }?.expression.canonicalText == "[{\"drop\":null}]", "\(name) ends in a drop")
        }
        // The same table observed: nothing to do; none wanted any more: deleted.
        var observed = ObservedState()
        observed.guestFilter = table
        #expect(GuestFilterPlanner(desired: desired, observed: observed).plan().isEmpty)
        #expect(GuestFilterPlanner(desired: DesiredState(), observed: observed).plan().map(\.summary) == ["delete table bridge mooring (no guest is filtered any more)"])
    }

    /// Drift in the filter names what differs (an address, a rule), and the reason says what the table is for.
    @Test func driftNamesTheAddressOrRuleThatDiffers() throws {
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [Self.vm("a", addresses: ["10.0.0.10/24"])])
        guard case let .replaceGuestFilter(table) = GuestFilterPlanner(desired: desired, observed: ObservedState()).plan().first?.operation else {
            Issue.record("no table"); return
        }
        var observed = ObservedState()
        observed.guestFilter = table
        observed.guestFilter?.sets = table.sets.map { set in var set = set; if set.name == "guest_ipv4" { set.elements = [] }; return set }
        observed.guestFilter?.rules.removeAll { $0.chain == GuestFilterPlanner.ipv4Chain && $0.expression.canonicalText.contains("\"dport\"") }
        let change = try #require(GuestFilterPlanner(desired: desired, observed: observed).plan().first)
        #expect(change.details.contains("+ guest_ipv4 \"vm-a-eth0\" . 10.0.0.10"), "\(change.details)")
        #expect(change.details.contains { $0.hasPrefix("+ rule in guest_ipv4:") && $0.contains("68") }, "\(change.details)")
        #expect(change.reason == .guestFilter(antiSpoofing: true, rateLimits: false))
        #expect(change.reason.text == "the guests' anti-spoofing filter (spec.networkInterfaces antiSpoofing)")

        var limited = Self.vm("b", antiSpoofing: false, addresses: [])
        limited.interfaces[0].rateLimit = RateLimit(toGuest: 1_000_000, fromGuest: nil)
        let reason = GuestFilterPlanner(desired: DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [limited]), observed: ObservedState()).plan().first?.reason
        #expect(reason == .guestFilter(antiSpoofing: false, rateLimits: true))
        #expect(reason?.text == "the guests' rate limits (spec.networkInterfaces rateLimit)")
    }

    @Test func theLinkLocalAddressIsTheKernelsEUI64One() {
        #expect(GuestFilterPlanner.linkLocalAddress(MACAddress("52:54:00:12:34:56")!).description == "fe80::5054:ff:fe12:3456")
        #expect(GuestFilterPlanner.linkLocalAddress(MACAddress("02:00:00:00:40:10")!).description == "fe80::ff:fe00:4010")
    }

    /// Rate limits: a policer per direction and port, the guest-bound one in a postrouting chain of its own;
    /// limits alone (no anti-spoofing) still make the table.
    @Test func rateLimitsArePolicersPerPort() throws {
        var vm = Self.vm("a", antiSpoofing: false, addresses: ["10.0.0.10/24"])
        vm.interfaces[0].rateLimit = RateLimit(toGuest: 1_000_000, fromGuest: 500_000)
        let changes = GuestFilterPlanner(desired: DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [vm]), observed: ObservedState()).plan()
        #expect(changes.map(\.summary) == ["create table bridge mooring: rate limits on 1"])
        guard case let .replaceGuestFilter(table) = changes.first?.operation else { Issue.record("no table"); return }
        #expect(table.chains.map(\.name) == ["from_guests", "to_guests"])
        #expect(table.chains.last?.hook == "postrouting")
        let first = try #require(table.rules.first { $0.chain == "from_guests" }).expression.canonicalText
        #expect(first.contains("\"iifname\"") && first.contains("\"rate\":500000") && first.contains("\"burst\":65536"), "\(first)")
        let toGuest = try #require(table.rules.first { $0.chain == "to_guests" }).expression.canonicalText
        #expect(toGuest.contains("\"oifname\"") && toGuest.contains("\"rate\":1000000") && toGuest.contains("\"burst\":100000"), "\(toGuest)")
    }

    /// A macvtap's guest gets the same rules in `netdev mooring`, keyed by the device it sends through, from a
    /// base chain per macvtap at its egress hook; the listing (which leaves the device out) compares equal.
    @Test func macvtapsAreFilteredAtTheirEgressHook() throws {
        var vm = Self.vm("m", addresses: ["10.0.0.20/24", "fd12::20/64"])
        vm.interfaces[0].type = .macvtap
        vm.interfaces[0].bridge = nil
        vm.interfaces[0].parentInterface = "eno1"
        let desired = DesiredState(microVMs: [vm, Self.vm("t", addresses: ["10.0.0.21/24"])])
        let changes = GuestFilterPlanner(desired: desired, observed: ObservedState()).plan()
        #expect(changes.map(\.summary) == ["create table bridge mooring: anti-spoofing for 1 guest interface",
                                           "create table netdev mooring: anti-spoofing for 1 macvtap"])
        #expect(changes.last?.phase == .deviceFilters)
        guard case let .replaceGuestFilter(table) = changes.last?.operation else { Issue.record("no table"); return }
        #expect(table.family == "netdev")
        let egress = try #require(table.chains.first { $0.hook == "egress" })
        #expect(egress.name == "egress_vm-m-eth0" && egress.device == "vm-m-eth0" && egress.priority == -200)
        #expect(table.sets.first { $0.name == "guest_ports" }?.elements == [.string("vm-m-eth0")])
        let rules = table.rules.filter { $0.chain == "from_guests" }.map(\.expression.canonicalText)
        #expect(rules.allSatisfy { !$0.contains("iifname") } && rules.first?.contains("oifname") == true, "\(rules)")

        var listed = table
        listed.chains = listed.chains.map { chain in var copy = chain; copy.device = nil; return copy }
        var observed = ObservedState()
        observed.macvtapFilter = listed
        #expect(GuestFilterPlanner(desired: desired, observed: observed).plan().map(\.summary) == ["create table bridge mooring: anti-spoofing for 1 guest interface"])
        // Put back as listed (a trial's revert): the devices come back from the chains' names.
        #expect(GuestFilterPlanner.withDevices(listed) == table)
    }
}
