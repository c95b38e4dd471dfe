import Foundation
import Testing

/// A misbehaving guest (scripts/tap-attack: the test attaches to the guests' taps as a VMM would and writes
/// hand-made frames) against the guests' filter, `bridge mooring`: another guest's MAC, a fake ARP reply for the
/// gateway, IPv4 and IPv6 from another guest's address, a neighbour advertisement for another guest's IPv6
/// address, a DHCP offer, a router advertisement and a VLAN tag are
/// all dropped, while the attacker's own frames pass; without the filter every one of them reaches the victim.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct AntiSpoofingTests {
    static let attacks = ["spoofed-mac", "fake-gateway-arp", "spoofed-ipv4", "dhcp-offer", "router-advert", "spoofed-ipv6", "spoofed-na", "vlan-tagged"]

    /// Two guests whose taps another tool would open (`vmm: none`), so the test can: the attacker filtered when
    /// `filtered`, as every guest mooring runs is by default.
    static func manifests(filtered: Bool, victimLearning: Bool? = nil) -> String {
        Manifests.bridge("vmbr", addresses: ["10.40.0.1/24", "\"fd40::1/64\""]) + "---\n" + Manifests.header + """
            kind: MicroVM
            metadata: {name: evil}
            spec:
              vmm: none
              networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: vmbr, guestMac: "02:00:00:00:40:10", addresses: [10.40.0.10/24, "fd40::10/64"], antiSpoofing: \(filtered)}]

            """ + "---\n" + Manifests.header + """
            kind: MicroVM
            metadata: {name: good}
            spec:
              vmm: none
              networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: vmbr, guestMac: "02:00:00:00:40:11", addresses: [10.40.0.11/24, "fd40::11/64"]\(victimLearning.map { ", learning: \($0)" } ?? "")}]

            """
    }

    /// The same two guests on macvtaps of one host interface (bridge mode: siblings reach each other directly,
    /// with no bridge and no `bridge` table in the path).
    static func macvtapManifests(filtered: Bool) -> String {
        func vm(_ name: String, _ host: Int, _ filter: String) -> String {
            Manifests.header + """
                kind: MicroVM
                metadata: {name: \(name)}
                spec:
                  vmm: none
                  networkInterfaces: [{guestDeviceName: eth0, type: macvtap, parentInterface: up0, guestMac: "02:00:00:00:40:\(host)", addresses: [10.40.0.\(host)/24, "fd40::\(host)/64"]\(filter)}]

                """
        }
        return vm("evil", 10, ", antiSpoofing: \(filtered)") + "---\n" + vm("good", 11, ", antiSpoofing: true")
    }

    /// Which attack frames the victim received.
    private func attack(_ harness: Harness) throws -> [String: String] {
        let script = TestEnvironment.repository.appendingPathComponent("scripts/tap-attack").path
        let run = try harness.ns.exec("python3", script, "vm-evil-eth0", "02:00:00:00:40:10", "10.40.0.10",
                                      "vm-good-eth0", "02:00:00:00:40:11", "10.40.0.11", "10.40.0.1", "fd40::11")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        var outcome: [String: String] = [:]
        for line in run.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            if parts.count == 2 { outcome[parts[1]] = parts[0] }
        }
        return outcome
    }

    @Test func aSpoofingGuestIsStoppedAtItsPortAndLegitimateFramesPass() throws {
        let harness = try Harness("as")
        defer { harness.tearDown() }
        try harness.manifests.write("m.yaml", Self.manifests(filtered: true))
        let plan = try harness.plan()
        #expect(plan.summaries.contains("create table bridge mooring: anti-spoofing for 1 guest interface"), "\(plan.summaries)")
        #expect(try harness.apply().converged)

        let filtered = try attack(harness)
        for name in Self.attacks { #expect(filtered[name] == "dropped", "\(name): \(filtered)") }
        // The victim's MAC stayed on the victim's port (the spoofed source did not move it).
        let fdb = try harness.ns.exec("bridge", "fdb", "show", "br", "vmbr").stdout
        #expect(!fdb.split(separator: "\n").contains { $0.contains("02:00:00:00:40:11") && $0.contains("vm-evil-eth0") }, "\(fdb)")

        // Deleted by hand: drift, put back.
        try harness.ns.exec("nft", "delete", "table", "bridge", "mooring")
        #expect(try harness.plan().summaries == ["create table bridge mooring: anti-spoofing for 1 guest interface"])
        #expect(try harness.apply().converged)

        // Without the filter the same frames reach the victim: the test can see an attack get through.
        try harness.manifests.write("m.yaml", Self.manifests(filtered: false))
        #expect(try harness.plan().summaries == ["delete table bridge mooring (no guest is filtered any more)"])
        #expect(try harness.apply().converged)
        let open = try attack(harness)
        for name in Self.attacks { #expect(open[name] == "delivered", "\(name): \(open)") }
    }

    @Test func aSpoofingGuestOnAMacvtapIsStoppedWhereItsMacvtapSends() throws {
        let harness = try Harness("am")
        defer { harness.tearDown() }
        try harness.ns.addHostInterface("up0")
        // Siblings of a lower device without carrier exchange nothing: both ends up.
        try harness.ns.ip("link", "set", "up0-p", "up")
        try harness.ns.ip("link", "set", "up0", "up")
        try harness.manifests.write("m.yaml", Self.macvtapManifests(filtered: true))
        let plan = try harness.plan()
        #expect(plan.summaries.contains("create table netdev mooring: anti-spoofing for 2 macvtaps"), "\(plan.summaries)")
        #expect(try harness.apply().converged)
        #expect(try harness.plan().summaries == [])

        let filtered = try attack(harness)
        for name in Self.attacks { #expect(filtered[name] == "dropped", "\(name): \(filtered)") }

        // A rule deleted by hand: drift, the table put back whole.
        try harness.ns.exec("nft", "flush", "chain", "netdev", "mooring", "egress_vm-evil-eth0")
        #expect(try harness.plan().summaries == ["replace table netdev mooring: anti-spoofing for 2 macvtaps"])
        #expect(try harness.apply().converged)
        #expect(try attack(harness)["spoofed-ipv4"] == "dropped")

        // Only the victim filtered: every attack from the unfiltered macvtap reaches it.
        try harness.manifests.write("m.yaml", Self.macvtapManifests(filtered: false))
        #expect(try harness.plan().summaries == ["replace table netdev mooring: anti-spoofing for 1 macvtap"])
        #expect(try harness.apply().converged)
        let open = try attack(harness)
        for name in Self.attacks { #expect(open[name] == "delivered", "\(name): \(open)") }
    }

    /// Which port the bridge forwards the victim's MAC to, and how it holds it (`static sticky`, or learned).
    private func victimEntry(_ harness: Harness) throws -> String {
        let fdb = try harness.ns.exec("bridge", "fdb", "show", "br", "vmbr").stdout
        return fdb.split(separator: "\n").filter { $0.hasPrefix("02:00:00:00:40:11 ") && $0.contains("master") }.joined(separator: "; ")
    }

    /// `learning: false`: the port learns nothing and gets no unknown unicast; the guest's MAC is a static, sticky
    /// entry, so a neighbour sending from it (here with no filter at all) cannot take its traffic. With learning
    /// on, the same frame moves the MAC to the attacker: the test can see the theft happen.
    @Test func aPortWithLearningOffKeepsItsGuestsMACWhateverOthersSend() throws {
        let harness = try Harness("al")
        defer { harness.tearDown() }
        try harness.manifests.write("m.yaml", Self.manifests(filtered: false, victimLearning: false))
        let plan = try harness.plan()
        #expect(plan.summaries.contains("tap vm-good-eth0: set learning and unicast flooding off"), "\(plan.summaries)")
        #expect(plan.summaries.contains("tap vm-good-eth0: add static fdb entry 02:00:00:00:40:11"), "\(plan.summaries)")
        #expect(try harness.apply().converged)
        #expect(try harness.plan().summaries == [])
        let port = try harness.ns.exec("bridge", "-d", "link", "show", "dev", "vm-good-eth0").stdout
        #expect(port.contains("learning off") && port.contains("flood off"), "\(port)")
        let entry = try victimEntry(harness)
        #expect(entry == "02:00:00:00:40:11 dev vm-good-eth0 sticky master vmbr static", "\(entry)")

        _ = try attack(harness)
        let afterAttack = try victimEntry(harness)
        #expect(afterAttack == entry, "\(afterAttack)")

        // Changed by hand: learning back on, the entry gone. Both are drift, both repaired.
        try harness.ns.exec("bridge", "link", "set", "dev", "vm-good-eth0", "learning", "on")
        try harness.ns.exec("bridge", "fdb", "del", "02:00:00:00:40:11", "dev", "vm-good-eth0", "master")
        let repair = try harness.plan().summaries
        #expect(repair == ["tap vm-good-eth0: set learning and unicast flooding off", "tap vm-good-eth0: add static fdb entry 02:00:00:00:40:11"], "\(repair)")
        #expect(try harness.apply().converged)

        // Learning back on (the default): the static entry goes with it, and a spoofing neighbour takes the MAC.
        try harness.manifests.write("m.yaml", Self.manifests(filtered: false))
        #expect(try harness.apply().converged)
        #expect(try harness.plan().summaries == [])
        #expect(try !victimEntry(harness).contains("static"))
        _ = try attack(harness)
        let stolen = try victimEntry(harness)
        #expect(stolen.contains("dev vm-evil-eth0"), "\(stolen)")
    }
}
