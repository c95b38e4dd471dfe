import Foundation
import MooringModel
import Testing

/// A bridge that serves its guests (`dhcpServer`, `ipv6SendRA`, the microvm.nix simple network's bridge): a guest
/// without cloud-init (the test bed's guest with no seed: busybox udhcpc, and the kernel's SLAAC) gets its
/// declared IPv4 address, router and DNS by DHCP, and an IPv6 address and default route from the bridge's router
/// advertisements; the service is repaired when stopped, follows the manifests, and goes when the fields do.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed && FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq"),
                             "needs the MicroVM test bed and dnsmasq (scripts/install-deps)"))
struct BridgeServiceTests {
    /// The repository's manifests/microvm-nix-simple/bridge.yaml: microvm.nix's simple network, as a mooring manifest.
    private func simpleNetwork() throws -> String {
        try String(contentsOf: TestEnvironment.repository.appendingPathComponent("manifests/microvm-nix-simple/bridge.yaml"), encoding: .utf8)
    }

    private func guest() throws -> String {
        let guest = try #require(TestEnvironment.guestDirectory)
        return Manifests.header + """
            kind: MicroVM
            metadata: {name: plain}
            spec:
              vcpu: 1
              memoryMb: 128
              vmm: qemu-microvm
              cloudInit: false
              kernel: \(guest)/vmlinux
              initrd: \(guest)/initrd.cpio.gz
              kernelCmdline: "quiet mooring_test.dhcp"
              networkInterfaces:
                - {guestDeviceName: eth0, type: tap, bridge: microvm, addresses: [10.0.0.10/24], nameservers: {addresses: [10.0.0.1], search: [lan]}}

            """
    }

    private func active(_ unit: String) -> String {
        ((try? Shell.run(["systemctl", "--user", "is-active", unit]))?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aGuestWithoutCloudInitGetsItsAddressesRoutesAndDNSFromTheBridge() throws {
        let harness = try Harness("bs", userBus: true)
        defer { harness.tearDown() }
        let unit = SystemdNames.unitName(forBridgeService: "microvm", netns: harness.ns.name)
        let runDirectory = SystemdNames.bridgeServiceDirectory(runRoot: "/run/mooring", bridge: "microvm", netns: harness.ns.name)
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", try simpleNetwork())
        try harness.manifests.write("vm.yaml", try guest())
        let plan = try harness.plan()
        #expect(plan.conflicts.isEmpty, "\(plan.conflicts.map(\.message))")
        let service = try #require(plan.changes.first { $0.resource == .unit(unit) }, "\(plan.summaries)")
        let mac = DeviceNaming.guestMAC(vm: "plain", device: "eth0")
        #expect(service.details.contains("  dhcp-host=\(mac),set:guest0,10.0.0.10,plain,1h"), "\(service.details)")
        let outcome = try harness.apply()
        #expect(outcome.converged, "\(outcome.remaining.changes.map(\.summary))")
        #expect(active(unit) == "active")
        // The bridge sends advertisements and takes none (its own made it autoconfigure an address before).
        let acceptRA = try Shell.run(["ip", "netns", "exec", harness.ns.name, "cat", "/proc/sys/net/ipv6/conf/microvm/accept_ra"]).stdout
        #expect(acceptRA.trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        // DHCP: the declared address, the bridge as router, the interface's DNS and search domain.
        func console() -> String { (try? String(contentsOfFile: "/run/mooring/vms/plain/vmm/console.log", encoding: .utf8)) ?? "" }
        #expect(eventually(timeout: 90) { harness.ns.http("http://10.0.0.10/") == "hello from guest" }, "\(console().suffix(2000))")
        #expect(console().contains("MVM-DHCP eth0 10.0.0.10/24 router 10.0.0.1 dns 10.0.0.1"), "\(console().suffix(2000))")
        // SLAAC from the bridge's advertisements: the guest's own address in fd30::/64 (let through by the
        // guests' filter as its own) and the bridge as its IPv6 default router.
        let slaac = mac.slaacAddress(in: CIDR("fd12:3456:789a::/64")!)
        #expect(eventually(timeout: 30) { harness.ns.http("http://[\(slaac)]/") == "hello from guest" }, "\(console().suffix(2000))")
        // The guest answers as soon as it has its address; its lease script sets the route and DNS just after, and
        // the RA's default route may come after the prefix: all of it, within a bound.
        let wanted = ["address eth0 10.0.0.10/24", "address eth0 \(slaac)/64", "dns 10.0.0.1", "search lan", "route4 10.0.0.1", "route6 fe80::"]
        var info = ""
        #expect(eventually(timeout: 30) {
            info = harness.ns.http("http://10.0.0.10/cgi-bin/info")
            return wanted.allSatisfy(info.contains)
        }, "\(wanted.filter { !info.contains($0) }) missing in \(info)")

        // Drift: the service stopped by hand is started again; a changed lease restarts it with the new one.
        _ = try Shell.run(["systemctl", "--user", "stop", unit])
        #expect(try harness.plan().summaries.contains { $0.hasPrefix("start unit \(unit)") })
        #expect(try harness.apply().converged)
        #expect(active(unit) == "active")
        try harness.manifests.write("bridge.yaml", try simpleNetwork().replacingOccurrences(of: "dhcpServer: true", with: "dhcpServer: {leaseTime: 30m}"))
        #expect(try harness.plan().summaries.contains("restart unit \(unit): its configuration changed"))
        #expect(try harness.apply().converged)
        let settled = try harness.plan()
        #expect(settled.changes.isEmpty, "\(settled.summaries)")

        // Its configuration edited by hand: written again, and dnsmasq restarted to read it.
        let config = runDirectory + "/dnsmasq.conf"
        try (String(contentsOfFile: config, encoding: .utf8) + "dhcp-range=10.0.0.50,10.0.0.60,12h\n").write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try harness.plan().summaries.contains("restart unit \(unit): its configuration file was changed by hand"))
        #expect(try harness.apply().converged)
        #expect(try !String(contentsOfFile: config, encoding: .utf8).contains("10.0.0.50"))

        // The fields gone, the service goes.
        try harness.manifests.write("bridge.yaml", try simpleNetwork().replacingOccurrences(of: "  dhcpServer: true\n  ipv6SendRA: true\n", with: ""))
        #expect(try harness.apply().converged)
        #expect(active(unit) != "active")
        // Its run directory goes with it (a stopped service leaves nothing behind).
        #expect(!FileManager.default.fileExists(atPath: runDirectory))
    }

    /// Bridges are per network namespace, units per host: two targets' bridges of one name each get their own
    /// service and configuration (one unit name for both made the second apply fail after creating its bridge).
    @Test func twoNamespacesServeBridgesOfOneName() throws {
        let first = try Harness("b1", userBus: true), second = try Harness("b2", userBus: true)
        defer { first.tearDown(); second.tearDown() }
        for (harness, subnet) in [(first, 41), (second, 42)] {
            try harness.manifests.write("bridge.yaml", Manifests.bridge("svcbr", addresses: ["10.\(subnet).0.1/24"], extra: "  dhcpServer: true\n"))
            let outcome = try harness.apply()
            #expect(outcome.converged, "\(outcome.remaining.changes.map(\.summary))")
        }
        for (harness, subnet) in [(first, 41), (second, 42)] {
            let unit = SystemdNames.unitName(forBridgeService: "svcbr", netns: harness.ns.name)
            #expect(active(unit) == "active", "\(unit)")
            let config = SystemdNames.bridgeServiceDirectory(runRoot: "/run/mooring", bridge: "svcbr", netns: harness.ns.name) + "/dnsmasq.conf"
            #expect(try String(contentsOfFile: config, encoding: .utf8).contains("10.\(subnet).0."), "\(config)")
            #expect(try harness.plan().changes.isEmpty, "each target sees only its own service")
        }
    }

    @Test func aBridgeThatServesDHCPNeedsAnAddressToServeFrom() throws {
        let harness = try Harness("bv", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr", addresses: ["\"fd31::1/48\""], extra: "  dhcpServer: true\n  ipv6SendRA: true\n"))
        let validate = try TestEnvironment.mooring(["validate", "-f", harness.manifests.path])
        #expect(validate.status != 0)
        #expect(validate.stderr.contains("spec.dhcpServer: the bridge has no IPv4 address to serve DHCP from"), "\(validate.stderr)")
        #expect(validate.stderr.contains("spec.ipv6SendRA: the bridge has no IPv6 /64 to announce"), "\(validate.stderr)")
    }
}
