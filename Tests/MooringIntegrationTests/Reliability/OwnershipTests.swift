import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Testing

/// A namespace full of things mooring does not own survives many randomized apply, drift and destroy cycles
/// byte for byte.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct OwnershipTests {
    /// Unowned bridges, taps, veths, a macvlan, addresses on them, the user's own nftables tables.
    private func seed(_ ns: TestNamespace) throws -> [String] {
        try ns.ip("link", "add", "ubr0", "type", "bridge")
        try ns.ip("addr", "add", "192.168.77.1/24", "dev", "ubr0")
        try ns.ip("addr", "add", "fd77::1/64", "dev", "ubr0", "nodad")
        try ns.ip("link", "set", "ubr0", "up")
        try ns.exec("ip", "tuntap", "add", "mode", "tap", "name", "utap0")
        try ns.ip("link", "set", "utap0", "master", "ubr0")
        try ns.exec("ip", "tuntap", "add", "mode", "tap", "name", "vm-x-eth0")  // a name like mooring's, unmarked
        try ns.ip("link", "add", "uveth0", "type", "veth", "peer", "name", "uveth1")
        try ns.ip("addr", "add", "192.168.78.1/24", "dev", "uveth0")
        try ns.ip("link", "add", "link", "uveth0", "name", "umvl0", "type", "macvlan", "mode", "bridge")
        try ns.ip("link", "set", "uveth1", "alias", "somebody else's")
        try ns.exec("nft", "add", "table", "inet", "filter")
        try ns.exec("nft", "add", "chain", "inet", "filter", "input", "{ type filter hook input priority 0; policy accept; }")
        try ns.exec("nft", "add", "rule", "inet", "filter", "input", "tcp", "dport", "22", "accept")
        try ns.exec("nft", "add", "table", "ip", "nat")
        try ns.exec("nft", "add", "chain", "ip", "nat", "post", "{ type nat hook postrouting priority 100; }")
        try ns.exec("nft", "add", "rule", "ip", "nat", "post", "oifname", "uveth0", "masquerade")
        return ["ubr0", "utap0", "vm-x-eth0", "uveth0", "uveth1", "umvl0"]
    }

    private func snapshot(_ ns: TestNamespace, _ links: [String]) throws -> String {
        var text = ""
        for link in links {
            // Bridge timers tick by themselves; everything else must stay exactly as it was.
            text += try ns.ip("-d", "link", "show", "dev", link).replacingOccurrences(of: #"\d+: "#, with: "", options: .regularExpression)
                .replacingOccurrences(of: #"(hello_timer|tcn_timer|topology_change_timer|gc_timer)\s+[\d.]+"#, with: "$1",
                                      options: .regularExpression)
            text += try ns.ip("addr", "show", "dev", link).split(separator: "\n").filter { !$0.contains("valid_lft") }
                .joined(separator: "\n")
        }
        text += try ns.exec("nft", "-a", "list", "table", "inet", "filter").stdout
        text += try ns.exec("nft", "-a", "list", "table", "ip", "nat").stdout
        return text
    }

    @Test func unownedObjectsSurviveRandomizedCycles() throws {
        let harness = try Harness("mo")
        let ns = harness.ns
        let watched = try seed(ns)
        try ns.addHostInterface("oext0")
        try ns.addHostInterface("omv0")
        try ns.ip("link", "set", "omv0", "up")
        // Wait for the kernel's own settling (IPv6 link-local, DAD) so only mooring could change anything after.
        usleep(2_500_000)
        let before = try snapshot(ns, watched)
        var generator = SeededGenerator(seed: ReliabilityScale.seed)
        print("ownership: seed \(ReliabilityScale.seed), \(ReliabilityScale.cycles) cycles (MOORING_RELIABILITY_SEED replays)")

        for cycle in 0..<ReliabilityScale.cycles {
            try harness.manifests.removeAll()
            let action = Int.random(in: 0..<10, using: &generator)
            if action < 7 {
                // A random manifest set: bridges, taps, a macvtap, maybe NAT.
                let bridges = Int.random(in: 1...2, using: &generator)
                for bridge in 0..<bridges {
                    try harness.manifests.write("b\(bridge).yaml", Manifests.bridge("obr\(bridge)", addresses: ["10.\(70 + bridge).0.1/24"],
                                                                                   mtu: [nil, 1400, 9000].randomElement(using: &generator)!))
                }
                for vm in 0..<Int.random(in: 0...6, using: &generator) {
                    try harness.manifests.write("v\(vm).yaml", Manifests.microVM("o\(vm)", bridge: "obr\(vm % bridges)"))
                }
                if Bool.random(using: &generator) {
                    try harness.manifests.write("m.yaml", Manifests.header + "kind: MicroVM\nmetadata: {name: om}\nspec:\n  vmm: none\n"
                        + "  networkInterfaces: [{guestDeviceName: eth0, type: macvtap, parentInterface: omv0}]\n")
                }
                if Bool.random(using: &generator) {
                    try harness.manifests.write("n.yaml", Manifests.header + """
                        kind: NAT
                        metadata: {name: o}
                        spec: {externalInterface: oext0, internalInterfaces: [obr0], forwardPorts: [{proto: tcp, sourcePort: \(8000 + cycle), destination: "10.70.0.9:80"}]}
                        """)
                }
            }
            let outcome = try harness.apply()
            #expect(outcome.converged, "cycle \(cycle): \(outcome.remaining.changes.map(\.summary)) \(outcome.remaining.conflicts)")
            if action == 9, let victim = try ns.links().keys.first(where: { $0.hasPrefix("vm-o") }) {
                try ns.ip("link", "del", victim)  // hand-made drift, repaired by the next cycle
            }
        }
        try harness.manifests.removeAll()
        #expect(try harness.apply().converged)
        let after = try snapshot(ns, watched)
        let changed = zip(before.split(separator: "\n"), after.split(separator: "\n")).filter { $0 != $1 }
        #expect(after == before, "unowned objects changed: \(changed.prefix(3))")
    }
}
