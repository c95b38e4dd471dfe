import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Testing

/// Hostile manifest directories through the real binary: each must exit 1 with an error naming the file,
/// in bounded time, and leave the host exactly as it was.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct HostileInputCLITests {
    enum Case: String, CaseIterable {
        case tenMegabyteFile, symlinkLoop, unreadableFile, fifo, nonUTF8, deepNesting, aliasBomb, controlCharacters
    }

    private func prepare(_ kind: Case, in directory: ManifestDirectory) throws -> String {
        let valid = Manifests.bridge("hb0", addresses: ["10.95.0.1/24"])
        try directory.write("valid.yaml", valid)
        let path = directory.url.appendingPathComponent("bad.yaml").path
        switch kind {
        case .tenMegabyteFile:
            try (valid + "# " + String(repeating: "x", count: 10 << 20) + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            chmod(path, 0o644)
        case .symlinkLoop:
            try FileManager.default.createDirectory(atPath: directory.path + "/loop", withIntermediateDirectories: true)
            chmod(directory.path + "/loop", 0o755)
            try FileManager.default.createSymbolicLink(atPath: directory.path + "/loop/again", withDestinationPath: "..")
            return "symlink loop"
        case .unreadableFile:
            try directory.write("bad.yaml", valid)
            chmod(path, 0o600)  // unreadable for the unprivileged user the check runs as
            return "Permission denied"
        case .fifo:
            mkfifo(path, 0o644)
            return "is not a regular file"
        case .nonUTF8:
            try Data(Array(valid.utf8) + [0xc3, 0x28, 0x0a]).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o644)
            return "not valid UTF-8"
        case .deepNesting:
            try directory.write("bad.yaml", Manifests.bridge("hb1") + "  ports: " + String(repeating: "[", count: 100_000) + "\n")
        case .aliasBomb:
            var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            for level in 1...12 { bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
            try directory.write("bad.yaml", Manifests.header + "kind: Bridge\nmetadata: {name: hb2}\n" + bomb + "spec: {ports: *a12}\n")
        case .controlCharacters:
            try directory.write("bad.yaml", Manifests.header + "kind: MicroVM\nmetadata: {name: \"a\\u001b[2Jb\"}\nspec: {vmm: none, networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: hb0}]}\n")
        }
        return "bad.yaml"
    }

    @Test(arguments: Case.allCases)
    func hostileDirectoriesExitOneAndChangeNothing(_ kind: Case) throws {
        let harness = try Harness("mh")
        let expected = try prepare(kind, in: harness.manifests)
        let before = try harness.ns.managedState()
        let started = Date()
        var arguments = ["apply", "-f", harness.manifests.path, "--netns", harness.ns.name]
        var command = [TestEnvironment.mooringBinary]
        if kind == .unreadableFile {
            // root reads anything: check as an unprivileged user, with `validate` (which needs no root).
            arguments = ["validate", "-f", harness.manifests.path]
            command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", TestEnvironment.mooringBinary]
            chmod(harness.manifests.path, 0o755)
        }
        let result = try Shell.run(command + arguments)
        #expect(!result.signaled, "\(kind) crashed the process")
        #expect(result.status == 1, "\(kind): exit \(result.status) \(result.stdout) \(result.stderr)")
        #expect((result.stdout + result.stderr).contains(expected), "\(kind): \(result.stdout)\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 30, "bounded time")
        #expect(try harness.ns.managedState() == before, "\(kind) changed the host")
    }

    @Test func manifestsWritableByOthersAreRefusedUnlessAllowed() throws {
        let harness = try Harness("mh")
        try harness.manifests.write("b.yaml", Manifests.bridge("hb3"))
        chmod(harness.manifests.url.appendingPathComponent("b.yaml").path, 0o666)
        let refused = try harness.cli("apply")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("b.yaml: is writable by group or others (mode 666)"))
        #expect(try harness.ns.links()["hb3"] == nil)
        #expect(try harness.cli("apply", ["--allow-insecure-manifests"]).status == 0)
        #expect(try harness.ns.links()["hb3"] != nil)
    }
}

/// Names and commands built from manifest strings never escape: no shell anywhere, argv elements kept whole.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct CommandSafetyTests {
    @Test func aHostileKernelCommandLineIsOneArgvElementAndRunsNothing() throws {
        let marker = "/tmp/mooring-pwned-\(UUID().uuidString)"
        let harness = try Harness("ms", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("b.yaml", Manifests.bridge("sbr0"))
        let hostile = "quiet x=\\\"; touch \(marker); echo $(touch \(marker)) `touch \(marker)` | tee \(marker)"
        try harness.manifests.write("v.yaml", Manifests.bootableVM("ts-x", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: sbr0}"])
            .replacingOccurrences(of: "kernelCmdline: \"quiet\"", with: "kernelCmdline: '\(hostile)'"))
        #expect(try harness.apply().converged)
        let unit = try #require(try harness.reconciler().drivers.observe().units.first { $0.name == SystemdNames.unitName(forMicroVM: "ts-x") })
        let cmdline = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(unit.mainPID)/cmdline"))
        let argv = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let append = try #require(argv.firstIndex(of: "-append"))
        #expect(argv[append + 1].hasPrefix("console=ttyS0 reboot=t panic=-1 ") && argv[append + 1].hasSuffix(" \(hostile)"),
                "\(argv[append + 1])")
        #expect(!FileManager.default.fileExists(atPath: marker), "something ran a shell")
    }
}
