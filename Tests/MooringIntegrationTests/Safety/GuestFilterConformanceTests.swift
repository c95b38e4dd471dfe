import Foundation
import Testing

/// The guests' filter against scripts/guest-conformance: hostile frames across ARP, NDP, router advertisements
/// and redirects, DHCP and DHCPv6, IPv4 and IPv6 source spoofing, 802.1Q/802.1ad, fragments and extension
/// headers in front of ICMPv6, each written into a guest's tap as its VMM would, from a guest declaring both
/// families, one declaring IPv4 only and one IPv6 only (a family a guest declares nothing in is checked too);
/// and a legitimate frame of every kind, which must all pass, as must a DHCP server, a router and a DHCPv6
/// server on the LAN side of the bridge (an unfiltered port). With the filter off every hostile frame arrives:
/// the drops are the filter's, not the bridge's. docs/reliability.md has the table.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct GuestFilterConformanceTests {
    struct Frame: Decodable {
        var name: String
        var kind: String
        var from: String
        var expect: String
        var result: String
    }

    static let guests: [(name: String, mac: String, ipv4: [String], ipv6: [String])] = [
        ("dual", "02:00:00:00:40:10", ["10.40.0.10"], ["fd40::10"]),
        ("good", "02:00:00:00:40:11", ["10.40.0.11"], ["fd40::11"]),
        ("v4only", "02:00:00:00:40:12", ["10.40.0.12"], []),
        ("v6only", "02:00:00:00:40:13", [], ["fd40::13"]),
        ("lan", "02:00:00:00:40:14", [], []),
    ]

    static func manifests(attackersFiltered: Bool) -> String {
        var text = Manifests.bridge("vmbr", addresses: ["10.40.0.1/24", "\"fd40::1/64\""])
        for guest in guests {
            let addresses = guest.ipv4.map { "\($0)/24" } + guest.ipv6.map { "\"\($0)/64\"" }
            let filtered = guest.name == "lan" ? false : guest.name == "good" ? true : attackersFiltered
            text += "---\n" + Manifests.header + """
                kind: MicroVM
                metadata: {name: \(guest.name)}
                spec:
                  vmm: none
                  networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: vmbr, guestMac: "\(guest.mac)", addresses: [\(addresses.joined(separator: ", "))], antiSpoofing: \(filtered)}]

                """
        }
        return text
    }

    private func run(_ harness: Harness) throws -> [Frame] {
        func guest(_ entry: (name: String, mac: String, ipv4: [String], ipv6: [String])) -> [String: Any] {
            ["tap": "vm-\(entry.name)-eth0", "mac": entry.mac, "ipv4": entry.ipv4, "ipv6": entry.ipv6]
        }
        let witness = Self.guests[1]
        var attackers: [String: Any] = [:]
        for entry in Self.guests where entry.name != "good" { attackers[entry.name] = guest(entry) }
        let config: [String: Any] = [
            "witness": ["tap": "vm-good-eth0", "mac": witness.mac], "gateway4": "10.40.0.1", "gateway6": "fd40::1",
            "victim": ["mac": witness.mac, "ipv4": witness.ipv4[0], "ipv6": witness.ipv6[0]], "guests": attackers,
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(harness.ns.name).json")
        try JSONSerialization.data(withJSONObject: config).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = TestEnvironment.repository.appendingPathComponent("scripts/guest-conformance").path
        let run = try harness.ns.exec("python3", script, file.path)
        #expect(run.status == 0, "\(run.stderr)")
        struct Report: Decodable { var frames: [Frame] }
        return try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8)).frames
    }

    @Test func everyHostileFrameIsDroppedAndEveryLegitimateOnePasses() throws {
        let harness = try Harness("gf")
        defer { harness.tearDown() }
        try harness.manifests.write("m.yaml", Self.manifests(attackersFiltered: true))
        #expect(try harness.apply().converged)
        #expect(try harness.plan().summaries == [], "the filter reads back as it was written")

        let frames = try run(harness)
        let hostile = frames.filter { $0.expect == "drop" }, legitimate = frames.filter { $0.expect == "pass" }
        #expect(hostile.count >= 40, "\(hostile.count) hostile frames")
        for frame in hostile { #expect(frame.result == "dropped", "\(frame.kind): \(frame.name) (from \(frame.from)) was delivered") }
        for frame in legitimate { #expect(frame.result == "delivered", "\(frame.kind): \(frame.name) (from \(frame.from)) was dropped") }
        let kinds = Set(hostile.map(\.kind))
        for kind in ["ARP", "NDP", "RA", "DHCP", "DHCPv6", "IPv4 source", "IPv6 source", "VLAN", "fragments", "extension headers"] {
            #expect(kinds.contains(kind), "no hostile \(kind) frame")
        }
        // The table in docs/reliability.md, printed for whoever updates it.
        print(frames.map { "| \($0.kind) | \($0.name) | \($0.expect == "drop" ? "dropped" : "delivered") | \($0.result) |" }.joined(separator: "\n"))

        // The attackers unfiltered: every hostile frame reaches the witness, so each drop above is the filter's.
        try harness.manifests.write("m.yaml", Self.manifests(attackersFiltered: false))
        #expect(try harness.apply().converged)
        for frame in try run(harness) where frame.expect == "drop" {
            #expect(frame.result == "delivered", "without the filter \(frame.name) (from \(frame.from)) still did not arrive")
        }
    }
}
