import Foundation
import Testing

/// One MicroVM that cannot start (its kernel was renamed) must not stop mooring from repairing another
/// MicroVM's devices, through `apply` or the watch loop; and nothing of the broken VM's own is touched.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct ConflictScopeTests {
    private func harness() throws -> (Harness, ManifestDirectory) {
        let harness = try Harness("cs", userBus: true)
        let files = try ManifestDirectory()
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("csbr", addresses: ["10.33.0.1/24"]))
        // VM a's kernel path does not exist: the state a running VM is in after its kernel is renamed.
        try harness.manifests.write("a.yaml", Manifests.header + """
            kind: MicroVM
            metadata: {name: a}
            spec:
              vmm: qemu-microvm
              vcpu: 1
              memoryMb: 128
              kernel: \(files.path)/renamed-vmlinux
              networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: csbr}]
            """)
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "csbr"))
        return (harness, files)
    }

    @Test func applyRepairsWhatAConflictDoesNotConcernAndExitsWithTheConflict() throws {
        let (harness, _) = try harness()
        defer { harness.tearDown() }
        let first = try harness.cli("apply")
        #expect(first.status == 1, "the conflict is an error: \(first.stdout)\(first.stderr)")
        #expect(try harness.ns.links()["vm-b-eth0"]?.master == "csbr", "VM b is built despite VM a's conflict: \(first.stdout)")
        #expect(try harness.ns.links()["vm-a-eth0"] == nil, "VM a's own changes wait for its conflict")
        #expect(first.stdout.contains("spec.kernel") && first.stdout.contains("does not exist"), "\(first.stdout)")
        #expect(first.stdout.contains("Held back by the conflicts:") && first.stdout.contains("vm-a-eth0"), "\(first.stdout)")

        try harness.ns.ip("link", "del", "vm-b-eth0")
        let plan = try harness.cli("plan")
        #expect(plan.status == 1)
        #expect(plan.stdout.contains("create tap vm-b-eth0"), "\(plan.stdout)")
        let repaired = try harness.cli("apply")
        #expect(repaired.status == 1)
        #expect(try harness.ns.links()["vm-b-eth0"]?.master == "csbr", "apply did not repair VM b: \(repaired.stdout)")
    }

    @Test func theWatchLoopRepairsWhatAConflictDoesNotConcern() throws {
        let (harness, _) = try harness()
        defer { harness.tearDown() }
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("watch-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let loop = try BackgroundProcess([TestEnvironment.mooringBinary, "run", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                          "--user", "--log-level", "debug"], output: log)
        defer { loop.stop() }
        #expect(try eventually { try harness.ns.links()["vm-b-eth0"]?.master == "csbr" }, "the loop builds VM b at start")
        try harness.ns.ip("link", "del", "vm-b-eth0")
        #expect(try eventually { try harness.ns.links()["vm-b-eth0"]?.master == "csbr" }, "the loop repairs VM b")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("conflict: unit/mooring-vm-a.service"))
        #expect(try harness.ns.links()["vm-a-eth0"] == nil)
    }
}
