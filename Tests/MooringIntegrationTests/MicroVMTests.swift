import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Testing

/// Real MicroVMs (QEMU microvm under TCG, the test bed's guest) as transient units of the test bed's systemd
/// user manager. Serialized: each boot costs seconds of CPU on a 2-core machine.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct MicroVMTests {
    /// HTTP GET from a namespace; empty on failure.
    private func http(_ namespace: TestNamespace, _ url: String) throws -> String {
        try Shell.run(["ip", "netns", "exec", namespace.name, "curl", "-s", "-m", "2", url]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func boots(_ namespace: TestNamespace, _ url: String, answer: String) throws -> Bool {
        try eventually(timeout: 90) { try http(namespace, url) == answer }
    }

    private func unit(_ vm: String, in harness: Harness) throws -> ObservedUnit? {
        let reconciler = try harness.reconciler()
        return try reconciler.drivers.observe().units.first { $0.name == SystemdNames.unitName(forMicroVM: vm) }
    }

    @Test func twoMicroVMsReachEachOtherTheHostAndAForwardedPort() throws {
        let harness = try Harness("mv", userBus: true)
        defer { harness.tearDown() }
        let client = try TestNamespace("mvc")
        try harness.ns.ip("link", "add", "ext0", "type", "veth", "peer", "name", "c0", "netns", client.name)
        try harness.ns.ip("addr", "add", "198.51.100.1/24", "dev", "ext0")
        try harness.ns.ip("link", "set", "ext0", "up")
        try client.ip("addr", "add", "198.51.100.2/24", "dev", "c0")
        try client.ip("link", "set", "c0", "up")
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr", addresses: ["10.20.0.1/24"]))
        try harness.manifests.write("nat.yaml", Manifests.header + """
            kind: NAT
            metadata: {name: edge}
            spec:
              externalInterface: ext0
              internalInterfaces: [vmbr]
              forwardPorts: [{proto: tcp, sourcePort: 8080, destination: "10.20.0.10:80"}]
            """)
        try harness.manifests.write("a.yaml", Manifests.bootableVM("tv-a", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr, address: 10.20.0.10/24}"]))
        try harness.manifests.write("b.yaml", Manifests.bootableVM("tv-b", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr, address: 10.20.0.11/24}"]))

        let outcome = try harness.apply()
        #expect(outcome.converged, "\(outcome.remaining.changes.map(\.summary))")
        #expect(try boots(harness.ns, "http://10.20.0.10/", answer: "hello from tv-a"))
        #expect(try boots(harness.ns, "http://10.20.0.11/", answer: "hello from tv-b"))
        // Guest to guest, guest to host, and a client outside through the port forward.
        #expect(try http(harness.ns, "http://10.20.0.10/cgi-bin/fetch?10.20.0.11:80") == "hello from tv-b")
        #expect(try http(harness.ns, "http://10.20.0.11/cgi-bin/ping?10.20.0.1") == "reachable 10.20.0.1")
        #expect(try http(client, "http://198.51.100.1:8080/") == "hello from tv-a")

        // Applying again is a no-op.
        let again = try harness.cli("apply")
        #expect(again.status == 0)
        #expect(again.stdout.contains("No changes: the host matches the manifests."))
    }

    @Test func macvtapMicroVMOnAVethParentIsReachableFromThePeer() throws {
        let harness = try Harness("mv", userBus: true)
        defer { harness.tearDown() }
        let peer = try TestNamespace("mvp")
        try harness.ns.ip("link", "add", "up0", "type", "veth", "peer", "name", "up0p", "netns", peer.name)
        try harness.ns.ip("link", "set", "up0", "up")
        try peer.ip("addr", "add", "10.30.0.1/24", "dev", "up0p")
        try peer.ip("link", "set", "up0p", "up")
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("m.yaml", Manifests.bootableVM("tv-m", interfaces: [
            "{guestDeviceName: eth0, type: macvtap, parentInterface: up0, address: 10.30.0.20/24, guestMac: \"02:00:00:30:00:20\"}",
        ]))
        let plan = try harness.plan()
        let start = try #require(plan.changes.compactMap(\.operation.unitToStart).first)
        #expect(start.argv.contains("exec-vm") && start.argv.contains("3=vm-tv-m-eth0"))
        #expect(start.argv.contains("tap,id=net0,fd=3,vhost=off"))
        #expect(try harness.apply().converged)
        #expect(try boots(peer, "http://10.30.0.20/", answer: "hello from tv-m"))
    }

    @Test func changesRestartOnlyTheirUnitAndHandMadeDriftIsRepaired() throws {
        let harness = try Harness("mv", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr", addresses: ["10.40.0.1/24"]))
        let c = { (memory: Int) in Manifests.bootableVM("tv-c", memory: memory, interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr, address: 10.40.0.10/24}"]) }
        try harness.manifests.write("c.yaml", c(128))
        try harness.manifests.write("d.yaml", Manifests.bootableVM("tv-d", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr, address: 10.40.0.11/24}"]))
        #expect(try harness.apply().converged)
        let pidC = try #require(try unit("tv-c", in: harness)?.mainPID)
        let pidD = try #require(try unit("tv-d", in: harness)?.mainPID)

        // More memory for tv-c: only its unit restarts, and the plan says it is disruptive.
        try harness.manifests.write("c.yaml", c(160))
        let plan = try harness.plan()
        #expect(plan.summaries == ["restart unit mooring-vm-tv\\x2dc.service: its spec changed"])
        #expect(plan.changes.first?.disruptive == true)
        #expect(try harness.apply().converged)
        #expect(try unit("tv-c", in: harness)?.mainPID != pidC)
        #expect(try unit("tv-d", in: harness)?.mainPID == pidD)
        #expect(try boots(harness.ns, "http://10.40.0.10/", answer: "hello from tv-c"))

        // A unit stopped by hand is drift that plan reports and apply repairs.
        try Shell.must("systemctl", "--user", "stop", SystemdNames.unitName(forMicroVM: "tv-d"))
        let report = try harness.cli("plan")
        #expect(report.status == 2)
        #expect(report.stdout.contains("+ start unit mooring-vm-tv\\x2dd.service"))
        #expect(try harness.cli("apply").status == 0)
        #expect(try unit("tv-d", in: harness)?.activeState == "active")

        // A VMM killed by hand is restarted by systemd (Restart=on-failure) and shows in `mooring status`.
        let victim = try #require(try unit("tv-d", in: harness)?.mainPID)
        kill(pid_t(victim), SIGKILL)
        #expect(try eventually(timeout: 20) {
            let now = try unit("tv-d", in: harness)
            return now?.activeState == "active" && now?.restarts == 1 && now?.mainPID != victim
        })
        let status = try harness.cli("status")
        #expect(status.status == 0, "\(status.stdout)")
        #expect(status.stdout.contains("1 restart"))

        // Removing a MicroVM stops its unit and deletes its devices.
        try harness.manifests.remove("c.yaml")
        #expect(try harness.apply().converged)
        #expect(try unit("tv-c", in: harness) == nil)
        #expect(try harness.ns.links()["vm-tv-c-eth0"] == nil)
        #expect(try harness.ns.links()["vm-tv-d-eth0"] != nil)
    }

    /// Bridges are per namespace, but a MicroVM's unit is one per host: a second target declaring a MicroVM of
    /// the same name gets a conflict in its plan (not systemd's refusal half-way through its apply), and the
    /// first keeps its VM.
    @Test func aMicroVMNameTakenByAnotherTargetIsAConflict() throws {
        let first = try Harness("mt1", userBus: true), second = try Harness("mt2", userBus: true)
        defer { first.tearDown(); second.tearDown() }
        for harness in [first, second] {
            try harness.manifests.write("host.yaml", Manifests.tcgHost)
            try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr"))
            try harness.manifests.write("vm.yaml", Manifests.bootableVM("tv-same", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr}"]))
        }
        #expect(try first.apply().converged)
        let plan = try second.plan()
        #expect(plan.conflicts.map(\.message) == [
            "mooring-vm-tv\\x2dsame.service already runs for another target (netns \(first.ns.name)): a MicroVM's unit is one per host"])
        #expect(!plan.changes.contains { $0.resource.kind == "unit" }, "\(plan.summariesForTests)")
        #expect(try first.plan().changes.isEmpty, "the first target's VM is untouched")
    }

    @Test func aVMMThatExitsAtOnceIsAnErrorWithItsOutput() throws {
        let harness = try Harness("mv", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr"))
        func useKernel(_ path: String) throws {
            try "this is not a kernel".write(toFile: path, atomically: true, encoding: .utf8)
            try harness.manifests.write("x.yaml", Manifests.bootableVM("tv-x", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr}"])
                .replacingOccurrences(of: "\(TestEnvironment.guestDirectory!)/vmlinux", with: path))
        }
        // Under /tmp, which the VMM's sandbox replaces with its own: the file is bound into the sandbox, so the VMM
        // reads it (and refuses it as a kernel in its own words, not as a missing file).
        try useKernel(harness.manifests.url.appendingPathComponent("not-a-kernel").path)
        let result = try harness.cli("apply")
        #expect(result.status == 1)
        #expect(result.stderr.contains("mooring-vm-tv\\x2dx.service: the VMM exited right after starting"), "\(result.stderr)")
        #expect(result.stderr.contains("qemu"), "the VMM's own error text is shown: \(result.stderr)")
        #expect(!result.stderr.contains("No such file"), "the VMM saw the file under /tmp: \(result.stderr)")
    }
}

extension Plan {
    var summariesForTests: [String] { changes.map(\.summary) }
}
