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

    /// `restart --all --rolling`: one VM at a time (`--max-unavailable 1`), each batch running again before the
    /// next goes down; every VM ends with a new VMM process.
    @Test func aRollingRestartTakesOneVMAtATime() throws {
        let harness = try Harness("pr", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("prbr"))
        for name in ["tv-r1", "tv-r2"] {
            try harness.manifests.write("\(name).yaml", Manifests.bootableVM(name, interfaces: ["{guestDeviceName: eth0, type: tap, bridge: prbr}"])
                .replacingOccurrences(of: "  kernelCmdline: \"quiet\"\n", with: "  kernelCmdline: \"quiet\"\n  stopTimeoutSeconds: 3\n"))
        }
        let started = try harness.cli("apply")
        #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
        func pids() throws -> [String: Int] {
            Dictionary(try harness.reconciler().drivers.observe().units.map { ($0.name, $0.mainPID) }, uniquingKeysWith: { first, _ in first })
        }
        let before = try pids()
        #expect(before.count == 2 && before.values.allSatisfy { $0 > 0 }, "\(before)")
        let rolled = try harness.cli("restart", ["--all", "--rolling", "--max-unavailable", "1"])
        #expect(rolled.status == 0, "STDOUT \(rolled.stdout) STDERR \(rolled.stderr)")
        #expect(rolled.stdout.contains("Restarting tv-r1 (1 of 2):") && rolled.stdout.contains("Restarting tv-r2 (2 of 2):"), "\(rolled.stdout)")
        // Each batch restarted only its own VM.
        let batches = rolled.stdout.components(separatedBy: "Restarting ").dropFirst()
        #expect(batches.count == 2 && batches.allSatisfy { $0.components(separatedBy: "(mooring restart)").count == 2 }, "\(rolled.stdout)")
        let after = try pids()
        for (unit, pid) in before { #expect(after[unit] != nil && after[unit] != pid, "\(unit) restarted") }
        let refused = try harness.cli("restart", ["tv-r1", "--max-unavailable", "2"])
        #expect(refused.status == 64 && refused.stderr.contains("--max-unavailable goes with --rolling"), "\(refused.stderr)")
    }
}
