import Foundation
import Testing

/// What a compromised VMM can leave in a VM's run directory: symlinks and hard links to root's files where root
/// used to write, chown, chmod, read and delete by path (a VMM that swapped `cidata.img` for a symlink to
/// `/etc/shadow` made it `root:mooring-vmm 0640`). Root now owns the run directory itself (the VMM only reads
/// it), makes the VMM's own `vmm/` afresh at every start, and works in both by descriptor: each planted link is
/// replaced or removed, never followed, and `mooring console` prints only the VMM's own regular file.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct HostileRunDirectoryTests {
    @Test func linksLeftInARunDirectoryAreNeverFollowed() throws {
        let harness = try Harness("hr", userBus: true)
        defer { harness.tearDown() }
        let vm = "hostile-rundir"
        let runDirectory = "/run/mooring/vms/\(vm)"
        let victims = "/run/mooring-victims-\(harness.ns.name)"
        try FileManager.default.createDirectory(atPath: victims + "/tree", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: victims) }
        for name in ["shadow", "tree/keep"] {
            try "root only\n".write(toFile: "\(victims)/\(name)", atomically: false, encoding: .utf8)
            chmod("\(victims)/\(name)", 0o600)
        }
        func victimsIntact() -> Bool {
            var info = stat()
            return ["shadow", "tree/keep"].allSatisfy { name in
                stat("\(victims)/\(name)", &info) == 0 && info.st_uid == 0 && info.st_gid == 0 && info.st_mode & 0o7777 == 0o600
                    && (try? String(contentsOfFile: "\(victims)/\(name)", encoding: .utf8)) == "root only\n"
            }
        }
        // What an earlier, compromised VMM left behind.
        try? FileManager.default.removeItem(atPath: runDirectory)
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: runDirectory + "/cidata.img", withDestinationPath: victims + "/shadow")
        try FileManager.default.createSymbolicLink(atPath: runDirectory + "/vmm", withDestinationPath: victims + "/tree")

        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("br.yaml", Manifests.bridge("hrbr", addresses: ["10.47.0.1/24"]))
        try harness.manifests.write("vm.yaml", Manifests.bootableVM(vm, interfaces: ["{guestDeviceName: eth0, type: tap, bridge: hrbr, addresses: [10.47.0.10/24]}"]))
        let outcome = try harness.apply()
        #expect(outcome.converged, "\(outcome.remaining.changes.map(\.summary))")
        #expect(victimsIntact(), "root followed a link the VMM left")
        var info = stat()
        #expect(lstat(runDirectory + "/cidata.img", &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o777 == 0o640)
        #expect(lstat(runDirectory + "/vmm", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && info.st_mode & 0o777 == 0o770)
        #expect(lstat(runDirectory, &info) == 0 && info.st_uid == 0 && info.st_mode & 0o777 == 0o755, "the run directory is root's; the VMM only reads it")
        // Booted (its power button works from here on, so the removal below is quick).
        #expect(eventually(timeout: 60) {
            (try? String(contentsOfFile: runDirectory + "/vmm/console.log", encoding: .utf8))?.contains("MVM-READY") == true
        })

        // The console swapped for a symlink, then for a hard link, to a file of root's: refused, not printed.
        let console = runDirectory + "/vmm/console.log"
        try FileManager.default.removeItem(atPath: console)
        try FileManager.default.createSymbolicLink(atPath: console, withDestinationPath: victims + "/shadow")
        var shown = try TestEnvironment.mooring(["console", vm])
        #expect(shown.status != 0 && !shown.stdout.contains("root only"), "\(shown.stdout)\(shown.stderr)")
        try FileManager.default.removeItem(atPath: console)
        #expect(link(victims + "/shadow", console) == 0)
        shown = try TestEnvironment.mooring(["console", vm])
        #expect(shown.status != 0 && !shown.stdout.contains("root only") && shown.stderr.contains("links, so it is not the VMM's own file"), "\(shown.stdout)\(shown.stderr)")
        try FileManager.default.removeItem(atPath: console)

        // Removal: a link to a tree of root's inside the VMM's directory is removed, not what it leads to.
        try FileManager.default.createSymbolicLink(atPath: runDirectory + "/vmm/escape", withDestinationPath: victims + "/tree")
        try harness.manifests.remove("vm.yaml")
        #expect(try harness.apply().converged)
        #expect(!FileManager.default.fileExists(atPath: runDirectory), "the run directory went with the unit")
        #expect(victimsIntact(), "removing the run directory followed a link")
    }
}
