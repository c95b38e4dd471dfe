import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import Testing

/// An upgrade of mooring that changes only host-side policy (here: its binary moved, so every unit's stop command
/// names another path, as a package installing to /usr/bin instead of /usr/local/bin does) restarts no running
/// VM: plan says each runs with an older policy and stays in sync, apply leaves the VMM alone, and
/// `mooring restart` applies the new policy on the operator's terms, through the stop ladder.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct PolicyUpgradeTests {
    @Test func aNewHostSidePolicyRestartsNoVMUntilAsked() throws {
        let harness = try Harness("pu", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("pubr"))
        try harness.manifests.write("vm.yaml", Manifests.bootableVM("tv-p", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: pubr}"]))
        // "The older build": this mooring at another path.
        let files = try ManifestDirectory(forVMMs: true)
        let older = files.path + "/mooring-older"
        try Shell.must("cp", TestEnvironment.mooringBinary, older)
        let started = try Shell.run([older, "apply", "-f", harness.manifests.path, "--netns", harness.ns.name, "--user"])
        #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
        func mainPID() throws -> Int? {
            try harness.reconciler().drivers.observe().units.first { $0.name == SystemdNames.unitName(forMicroVM: "tv-p") }?.mainPID
        }
        let before = try #require(try mainPID())

        // Each declared VM's state in the metrics.
        let metrics = files.path + "/metrics.prom"
        #expect(try harness.cli("plan", ["--metrics-file", metrics]).status == 0)
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("mooring_microvm_state{command=\"plan\",microvm=\"tv-p\",state=\"running\"} 1"), "\(text)")
        #expect(text.contains("mooring_microvm_state{command=\"plan\",microvm=\"tv-p\",state=\"failed\"} 0"), "\(text)")

        let plan = try harness.cli("plan")
        #expect(plan.status == 0, "in sync: nothing the guest sees changed: \(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("MicroVM \"tv-p\" runs with an older host-side policy"), "\(plan.stdout)")
        let applied = try harness.cli("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try mainPID() == before, "the upgrade restarted the VM")

        let unknown = try harness.cli("restart", ["nosuchvm"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no MicroVM named nosuchvm"), "\(unknown.stderr)")
        let restarted = try harness.cli("restart", ["tv-p"])
        #expect(restarted.status == 0, "\(restarted.stdout)\(restarted.stderr)")
        #expect(restarted.stdout.contains("restart unit mooring-vm-tv\\x2dp.service (mooring restart)"), "\(restarted.stdout)")
        let after = try #require(try mainPID())
        #expect(after != before, "restarted")
        let clean = try harness.cli("plan")
        #expect(clean.status == 0 && !clean.stdout.contains("older host-side policy"), "\(clean.stdout)")
    }
}
