import Foundation
import Testing

/// A real guest configured from its cloud-init seed disk (scripts/guest/init reads the same NoCloud files a
/// distribution's cloud-init does): IPv4 and IPv6 addresses, both default routes and DNS from the manifest,
/// reached over both families through the NAT's forwards.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct GuestConfigTests {
    @Test func aGuestGetsBothFamiliesAndDNSFromItsSeedAndIsReachedThroughTheForwards() throws {
        let harness = try Harness("gc", userBus: true)
        defer { harness.tearDown() }
        let client = try TestNamespace("gcc")
        try harness.ns.connectClient(client, v6Net: 5)
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr", addresses: ["10.20.0.1/24", "\"fd12::1/64\""]))
        try harness.manifests.write("nat.yaml", Manifests.header + """
            kind: NAT
            metadata: {name: edge}
            spec:
              externalInterface: ext0
              internalInterfaces: [vmbr]
              enableIPv6: true
              forwardPorts:
                - {proto: tcp, sourcePort: 8080, destination: "10.20.0.10:80"}
                - {proto: tcp, sourcePort: 8080, destination: "[fd12::10]:80"}
            """)
        try harness.manifests.write("vm.yaml", Manifests.bootableVM("seeded", interfaces: [
            "{guestDeviceName: eth0, type: tap, bridge: vmbr, addresses: [10.20.0.10/24, \"fd12::10/64\"], "
                + "nameservers: {addresses: [10.20.0.1, \"fd12::1\"], search: [lan]}}",
        ]))
        let plan = try harness.plan()
        #expect(plan.conflicts.isEmpty, "\(plan.conflicts.map(\.message))")
        let outcome = try harness.apply()
        #expect(outcome.converged, "\(outcome.remaining.changes.map(\.summary)) \(outcome.remaining.unchecked)")

        // The guest read its seed (it says so on its console) and configured what the seed says.
        func console() -> String { (try? String(contentsOfFile: "/run/mooring/vms/seeded/vmm/console.log", encoding: .utf8)) ?? "" }
        #expect(eventually(timeout: 90) { harness.ns.http("http://10.20.0.10/") == "hello from seeded" }, "\(console().suffix(3000))")
        let console = console()
        #expect(console.contains("MVM-SEED seeded"), "\(console.suffix(2000))")
        let info = harness.ns.http("http://10.20.0.10/cgi-bin/info")
        for line in ["name seeded", "address eth0 10.20.0.10/24", "address eth0 fd12::10/64", "dns 10.20.0.1", "dns fd12::1", "search lan"] {
            #expect(info.contains(line), "\(line) in \(info)")
        }
        // Over IPv6 directly, and from outside through both forwards (the guest's default routes lead back).
        #expect(eventually(timeout: 10) { harness.ns.http("http://[fd12::10]/") == "hello from seeded" })
        #expect(client.http("http://198.51.100.1:8080/") == "hello from seeded")
        #expect(client.http("http://[2001:db8:5::1]:8080/") == "hello from seeded")
    }
}
