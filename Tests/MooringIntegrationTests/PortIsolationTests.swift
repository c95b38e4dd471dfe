import Foundation
import Testing

/// Bridge port isolation (`isolated: true` on a tap): two isolated guests cannot reach each other, while both
/// reach the gateway; a hand-made change is drift, repaired; a guest whose port is not isolated is reachable
/// again (so the first check can fail). Real guests under TCG.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct PortIsolationTests {
    private func http(_ namespace: TestNamespace, _ url: String) -> String {
        ((try? Shell.run(["ip", "netns", "exec", namespace.name, "curl", "-s", "-m", "4", url]))?.stdout ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func vm(_ name: String, _ address: String, isolated: Bool) -> String {
        Manifests.bootableVM(name, interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr, address: \(address)/24, isolated: \(isolated)}"])
    }

    @Test func isolatedGuestsReachTheGatewayButNotEachOther() throws {
        let harness = try Harness("pi", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr", addresses: ["10.30.0.1/24"]))
        try harness.manifests.write("a.yaml", vm("iso-a", "10.30.0.10", isolated: true))
        try harness.manifests.write("b.yaml", vm("iso-b", "10.30.0.11", isolated: true))
        let outcome = try harness.apply()
        #expect(outcome.converged, "\(outcome.remaining.changes.map(\.summary))")
        #expect(eventually(timeout: 90) { http(harness.ns, "http://10.30.0.10/") == "hello from iso-a" })
        #expect(eventually(timeout: 90) { http(harness.ns, "http://10.30.0.11/") == "hello from iso-b" })

        #expect(http(harness.ns, "http://10.30.0.10/cgi-bin/ping?10.30.0.1") == "reachable 10.30.0.1")
        #expect(http(harness.ns, "http://10.30.0.11/cgi-bin/ping?10.30.0.1") == "reachable 10.30.0.1")
        #expect(http(harness.ns, "http://10.30.0.10/cgi-bin/ping?10.30.0.11") == "unreachable 10.30.0.11")

        // Turned off by hand: drift, and the apply puts it back without restarting anything.
        try harness.ns.ip("link", "set", "dev", "vm-iso-b-eth0", "type", "bridge_slave", "isolated", "off")
        #expect(try harness.plan().summaries == ["tap vm-iso-b-eth0: set port isolation on"])
        #expect(try harness.apply().converged)
        #expect(try harness.ns.ip("-d", "link", "show", "vm-iso-b-eth0").contains("isolated on"))

        // Not isolated in the manifest: an isolated port reaches a port that is not.
        try harness.manifests.write("b.yaml", vm("iso-b", "10.30.0.11", isolated: false))
        #expect(try harness.plan().summaries == ["tap vm-iso-b-eth0: set port isolation off"])
        #expect(try harness.apply().converged)
        #expect(eventually(timeout: 10) { http(harness.ns, "http://10.30.0.10/cgi-bin/ping?10.30.0.11") == "reachable 10.30.0.11" })
    }
}
