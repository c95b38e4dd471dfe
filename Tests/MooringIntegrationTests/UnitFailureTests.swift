import Foundation
import Testing

/// A MicroVM unit that does not start must say why in systemd's own words (its Result, how its main process
/// ended) plus the VMM's output, never a bare "no output". Each case breaks one thing the manager or the VMM
/// needs, through the CLI as an operator would meet it.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct UnitFailureTests {
    private static func vm(_ name: String, kernel: String) -> String {
        Manifests.header + """
            kind: MicroVM
            metadata: {name: \(name)}
            spec:
              vcpu: 1
              memoryMb: 128
              kernel: \(kernel)
              initrd: \(TestEnvironment.guestDirectory ?? "")/initrd.cpio.gz
              networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: ufbr, address: 10.31.0.10/24}]
            """
    }

    private func harness(kernel: String) throws -> Harness {
        let harness = try Harness("uf", userBus: true)
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("ufbr", addresses: ["10.31.0.1/24"]))
        try harness.manifests.write("vm.yaml", Self.vm("uf-vm", kernel: kernel))
        return harness
    }

    /// The namespace exists for mooring but not for the manager: it was made in a private mount namespace, so
    /// the manager sees only the empty file under /run/netns (the fresh-machine failure of the test bed).
    @Test func aNamespaceTheManagerCannotEnterIsReportedAsSystemdSaysIt() throws {
        let harness = try harness(kernel: "\(TestEnvironment.guestDirectory ?? "")/vmlinux")
        defer { harness.tearDown() }
        let hidden = "uf-hidden-\(UUID().uuidString.prefix(6).lowercased())"
        let script = """
            ip netns add \(hidden) || exit 90
            ip -n \(hidden) link set lo up
            "$0" apply -f "$1" --netns \(hidden) --user
            status=$?
            "$0" apply -f "$2" --netns \(hidden) --user --allow-empty >/dev/null 2>&1
            ip netns del \(hidden)
            exit $status
            """
        let empty = try ManifestDirectory()
        let result = try Shell.run(["unshare", "-m", "--propagation", "private", "bash", "-c", script,
                                    TestEnvironment.mooringBinary, harness.manifests.path, empty.path])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("mooring-vm-uf\\x2dvm.service"), "\(result.stderr)")
        #expect(result.stderr.contains("Result=exit-code"), "\(result.stderr)")
        #expect(result.stderr.contains("status=225/NETWORK"), "\(result.stderr)")
        #expect(!result.stderr.contains("no output"), "\(result.stderr)")
    }

    /// Applies with `script` as the `qemu-system-x86_64` found first on PATH; returns the result and the
    /// directory holding the script (which must outlive any unit still running it).
    private func applyWithStandInVMM(_ harness: Harness, _ script: String) throws -> (Shell.Output, ManifestDirectory) {
        let bin = try ManifestDirectory(forVMMs: true)
        try bin.write("qemu-system-x86_64", script)
        chmod(bin.path + "/qemu-system-x86_64", 0o755)
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return (try harness.cli("apply", environment: ["PATH": path]), bin)
    }

    /// The VMM program cannot be executed (its interpreter does not exist): systemd's 203/EXEC.
    @Test func aVMMThatCannotBeExecutedIsReportedAsSystemdSaysIt() throws {
        let harness = try harness(kernel: "\(TestEnvironment.guestDirectory ?? "")/vmlinux")
        defer { harness.tearDown() }
        let (result, _) = try applyWithStandInVMM(harness, "#!/nonexistent/interpreter\n")
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("status=203/EXEC"), "\(result.stderr)")
        #expect(result.stderr.contains("Result=exit-code"), "\(result.stderr)")
    }

    /// A VMM that keeps dying is not restarted forever: after a bounded number of starts (StartLimitBurst) its
    /// unit stays failed, with no restart scheduled, instead of an auto-restart every second for as long as the
    /// host runs. (A unit in auto-restart is `activating`; `failed` means systemd gave up.)
    @Test func aCrashLoopingVMMEndsFailed() throws {
        let harness = try harness(kernel: "\(TestEnvironment.guestDirectory ?? "")/vmlinux")
        defer { harness.tearDown() }
        // Lives past apply's settle check, then dies: the crash loop starts after apply succeeded. The directory
        // holding it is kept until the end: the unit keeps running it.
        let (applied, standIn) = try applyWithStandInVMM(harness, "#!/bin/sh\nsleep 1.5\necho 'stand-in VMM: giving up' >&2\nexit 1\n")
        defer { _ = standIn }
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let unit = "mooring-vm-uf\\x2dvm.service"
        func state() throws -> String {
            try Shell.run(["systemctl", "--user", "show", unit, "-p", "ActiveState", "-p", "Result", "-p", "NRestarts"]).stdout
        }
        let limited = try eventually(timeout: 40) { try state().contains("ActiveState=failed") }
        let final = try state()
        #expect(limited, "\(final)")
        #expect(final.contains("NRestarts=4") || final.contains("NRestarts=5"), "a bounded number of restarts: \(final)")
        // The plan says why before it starts the VM again: systemd's account and the VMM's last words.
        let plan = try harness.cli("plan")
        #expect(plan.stdout.contains("last run: Result=") && plan.stdout.contains("restart(s)"), "\(plan.stdout)")
        #expect(plan.stdout.contains("stand-in VMM: giving up"), "\(plan.stdout)")
    }

    /// A missing kernel is found before anything starts; a kernel file that is not a kernel makes QEMU exit at
    /// once, and its own words reach the operator with systemd's.
    @Test func aMissingOrBrokenKernelIsReportedWithTheVMMsOwnWords() throws {
        let files = try ManifestDirectory(forVMMs: true)
        let missing = try harness(kernel: files.path + "/no-such-vmlinux")
        defer { missing.tearDown() }
        let planned = try missing.cli("apply")
        #expect(planned.status == 1)
        #expect((planned.stdout + planned.stderr).contains("spec.kernel \(files.path)/no-such-vmlinux does not exist"),
                "\(planned.stdout)\(planned.stderr)")

        try files.write("broken-vmlinux", "this is not a kernel\n")
        try missing.manifests.write("vm.yaml", Self.vm("uf-vm", kernel: files.path + "/broken-vmlinux"))
        let result = try missing.cli("apply")
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("status=1/FAILURE"), "\(result.stderr)")
        #expect(result.stderr.contains("qemu"), "the VMM's own message: \(result.stderr)")
    }
}
