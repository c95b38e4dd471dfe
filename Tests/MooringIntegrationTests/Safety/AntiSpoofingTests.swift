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
    static func manifests(filtered: Bool) -> String {
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
              networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: vmbr, guestMac: "02:00:00:00:40:11", addresses: [10.40.0.11/24, "fd40::11/64"]}]

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
}
