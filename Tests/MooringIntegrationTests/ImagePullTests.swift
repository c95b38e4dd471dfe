import Foundation
import MooringPlan
import Testing

/// Images by reference from a real registry on loopback (Debian's docker-registry; images built with umoci and
/// pushed with skopeo): MicroVMs boot from a pulled kernel, initrd and root volume, each writing to its own
/// layer; they start again from the cache with the registry gone; a moved tag is drift; a reference that does
/// not resolve holds back only its MicroVM.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed && LoopbackRegistry.available, TestEnvironment.testbedReason))
struct ImagePullTests {
    private func vm(_ name: String, address: String, kernel: String, root: String?) -> String {
        Manifests.header + """
            kind: MicroVM
            metadata: {name: \(name)}
            spec:
              vcpu: 1
              memoryMb: 128
              vmm: qemu-microvm
              kernel: {image: "\(kernel)", filename: boot/vmlinux}
              initrd: {image: "\(kernel)", filename: boot/initrd.cpio.gz}
            \(root.map { "  rootVolume: {id: root, image: \"\($0)\"}\n" } ?? "")  kernelCmdline: quiet
              networkInterfaces:
                - {guestDeviceName: eth0, type: tap, bridge: vmbr, addresses: [\(address)/24]}

            """
    }

    private func host(_ imageRoot: String) -> String {
        Manifests.header + "kind: Host\nmetadata: {name: testbed}\nspec: {accelerator: tcg, imageRoot: \(imageRoot)}\n"
    }

    /// An image root of the test's own, and a harness whose Host pulls into it, with the bridge `vmbr`.
    private func bed(_ prefix: String) throws -> (images: String, harness: Harness) {
        let images = "/var/lib/mooring/test-files/images-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        let harness = try Harness(prefix, userBus: true)
        try harness.manifests.write("host.yaml", host(images))
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr", addresses: ["10.20.0.1/24"]))
        return (images, harness)
    }

    /// The test bed's kernel and initramfs, as an image's boot/ directory.
    private func kernelFiles(_ guest: String) -> [(source: String, directory: String)] {
        [("\(guest)/vmlinux", "/boot/vmlinux"), ("\(guest)/initrd.cpio.gz", "/boot/initrd.cpio.gz")]
    }

    private func sha256(_ path: String) throws -> String {
        String(try Shell.must(["sha256sum", path]).prefix(64))
    }

    private func allocated(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_blocks) * 512 : -1
    }

    @Test func microVMsBootFromPulledImagesEachOnItsOwnLayerAndAgainFromTheCacheWithTheRegistryGone() throws {
        let guest = try #require(TestEnvironment.guestDirectory)
        let registry = try LoopbackRegistry()
        let files = try ManifestDirectory(forVMMs: true)
        try FileManager.default.createDirectory(atPath: files.path + "/etc", withIntermediateDirectories: true)
        try "root image 1\n".write(toFile: files.path + "/etc/mooring-image", atomically: true, encoding: .utf8)
        let kernel = try registry.push("test/kernel", tag: "1", files: kernelFiles(guest))
        let root = try registry.push("test/root", tag: "1", files: [(files.path + "/etc", "/etc")])
        let (images, harness) = try bed("ip")
        defer { harness.tearDown(); try? FileManager.default.removeItem(atPath: images) }
        try harness.manifests.write("a.yaml", vm("pa", address: "10.20.0.10", kernel: kernel.reference, root: root.reference))
        try harness.manifests.write("b.yaml", vm("pb", address: "10.20.0.11", kernel: kernel.reference, root: root.reference))

        // The plan names each image and the digest the registry gives it; each is pulled once.
        let plan = try harness.plan()
        #expect(plan.conflicts.isEmpty, "\(plan.conflicts.map(\.message))")
        let pulls = plan.changes.compactMap { change -> ImageFetch? in if case let .fetchImage(fetch) = change.operation { fetch } else { nil } }
        #expect(Set(pulls.map(\.digest)) == [kernel.digest, root.digest] && pulls.count == 2, "\(plan.summaries)")
        #expect(pulls.first { $0.digest == root.digest }?.makeDisk == true)
        let outcome = try harness.apply()
        #expect(outcome.converged, "\(outcome.remaining.changes.map(\.summary))")
        #expect(eventually(timeout: 90) { harness.ns.http("http://10.20.0.10/") == "hello from pa" && harness.ns.http("http://10.20.0.11/") == "hello from pb" })

        // The digest's disk is shared and never written; each VM's writes land in a layer of a few MiB.
        let disk = "\(images)/.digests/\(root.digest.replacingOccurrences(of: ":", with: "-"))/disk.img"
        let before = try sha256(disk)
        let layers = try FileManager.default.contentsOfDirectory(atPath: "\(images)/.vm-disks").flatMap { vm in
            try FileManager.default.contentsOfDirectory(atPath: "\(images)/.vm-disks/\(vm)").map { "\(images)/.vm-disks/\(vm)/\($0)" }
        }
        #expect(layers.count == 2, "\(layers)")
        for layer in layers { #expect(allocated(layer) > 0 && allocated(layer) < 8 << 20, "\(layer): \(allocated(layer)) bytes") }
        var info = stat()
        #expect(stat(disk, &info) == 0 && info.st_uid == 0 && info.st_mode & 0o022 == 0, "the cache is root's and read-only to others")

        // With the registry gone, the plan uses what the host has (and says so), and a restart boots from it.
        registry.stop()
        let restart = try harness.cli("restart", ["pa"])
        #expect(restart.status == 0, "\(restart.stdout) \(restart.stderr)")
        #expect((restart.stdout + restart.stderr).contains("did not answer"), "\(restart.stdout) \(restart.stderr)")
        #expect(eventually(timeout: 90) { harness.ns.http("http://10.20.0.10/") == "hello from pa" })
        #expect(try harness.plan().changes.isEmpty, "an offline host is in sync with what it has")
        #expect(try sha256(disk) == before, "no VM wrote to the shared disk")
    }

    @Test func anImageThatDoesNotUnpackHoldsBackOnlyItsMicroVMAndLeavesNothingHalfWritten() throws {
        let guest = try #require(TestEnvironment.guestDirectory)
        let registry = try LoopbackRegistry()
        let good = try registry.push("test/kernel", tag: "1", files: kernelFiles(guest))
        let broken = try registry.pushNotAFileSystem("test/broken", tag: "1")
        let (images, harness) = try bed("ib")
        defer { harness.tearDown(); try? FileManager.default.removeItem(atPath: images) }
        try harness.manifests.write("good.yaml", vm("fine", address: "10.20.0.10", kernel: good.reference, root: nil))
        try harness.manifests.write("bad.yaml", vm("broke", address: "10.20.0.11", kernel: broken, root: nil))

        // The pull fails in apply (only unpacking finds the layer is no archive): the other VM starts all the same.
        let apply = try harness.cli("apply")
        #expect(apply.status != 0, "the failed pull is reported")
        #expect((apply.stdout + apply.stderr).contains("test/broken:1"), "\(apply.stdout) \(apply.stderr)")
        #expect(eventually(timeout: 90) { harness.ns.http("http://10.20.0.10/") == "hello from fine" })
        let units = try Shell.run(["systemctl", "--user", "list-units", "--all", "--plain", "--no-legend", "mooring-vm-*"]).stdout
        #expect(!units.contains("mooring-vm-broke"), "\(units)")
        // Nothing half-written: no partial entry, no link, no digest directory for it; the next plan pulls it again.
        let stored = try FileManager.default.contentsOfDirectory(atPath: "\(images)/.digests")
        #expect(stored.count == 1 && !stored.contains { $0.hasPrefix(".partial") }, "\(stored)")
        #expect(!FileManager.default.fileExists(atPath: "\(images)/\(registry.host)/test/broken:1"))
        #expect(try harness.plan().summaries.contains { $0.hasPrefix("pull image \(broken)") })
    }

    /// An image is the registry's: unpacked as root it could leave a world-writable block device or a setuid file
    /// in the store (any local user's way to the host's disk or to root), and a symlink could make a MicroVM's
    /// initrd the host's /etc/shadow. The store keeps none of the first two, and the unit is refused the third.
    @Test func aHostileImageGivesNeitherLocalUsersNorTheGuestAnythingOfTheHosts() throws {
        let guest = try #require(TestEnvironment.guestDirectory)
        let registry = try LoopbackRegistry()
        let files = try ManifestDirectory(forVMMs: true)
        for directory in ["boot", "dev", "bin"] { try FileManager.default.createDirectory(atPath: "\(files.path)/\(directory)", withIntermediateDirectories: true) }
        try Shell.must("cp", "\(guest)/vmlinux", "\(files.path)/boot/vmlinux")
        try FileManager.default.createSymbolicLink(atPath: "\(files.path)/boot/initrd.cpio.gz", withDestinationPath: "/etc/shadow")
        try Shell.must("mknod", "-m", "0666", "\(files.path)/dev/sda", "b", "8", "0")
        try Shell.must("cp", "/bin/true", "\(files.path)/bin/su")
        try Shell.must("chmod", "4777", "\(files.path)/bin/su")
        let hostile = try registry.push("test/hostile", tag: "1", files: ["boot", "dev", "bin"].map { ("\(files.path)/\($0)", "/\($0)") })
        let (images, harness) = try bed("ih")
        defer { harness.tearDown(); try? FileManager.default.removeItem(atPath: images) }
        try harness.manifests.write("a.yaml", vm("evil", address: "10.20.0.10", kernel: hostile.reference, root: nil))

        let apply = try harness.cli("apply")
        let said = apply.stdout + apply.stderr
        #expect(apply.status != 0 && said.contains("leads out of its image, to /etc/shadow"), "\(said)")
        let units = try Shell.run(["systemctl", "--user", "list-units", "--all", "--plain", "--no-legend", "mooring-vm-evil*"]).stdout
        #expect(!units.contains("running"), "\(units)")
        let stored = "\(images)/.digests/\(hostile.digest.replacingOccurrences(of: ":", with: "-"))"
        var info = stat()
        #expect(lstat("\(stored)/dev/sda", &info) != 0, "no device node in the store")
        #expect(lstat("\(stored)/bin/su", &info) == 0 && info.st_mode & 0o7022 == 0, "no setuid bit, no write for others: \(String(info.st_mode, radix: 8))")
        #expect(lstat("\(stored)/boot/initrd.cpio.gz", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK, "the symlink stays, unfollowed")
    }

    /// A registry that asks for a password: mooring keeps no credentials of its own; skopeo reads the
    /// ecosystem's files (containers' auth.json, here through REGISTRY_AUTH_FILE as `skopeo login` writes it).
    @Test func credentialsComeFromTheEcosystemsAuthFile() throws {
        let guest = try #require(TestEnvironment.guestDirectory)
        let registry = try LoopbackRegistry(credentials: ("mooring", "s3cret-\(UInt32.random(in: 0...UInt32.max))"))
        let kernel = try registry.push("test/kernel", tag: "1", files: kernelFiles(guest))
        let (images, harness) = try bed("ic")
        defer { harness.tearDown(); try? FileManager.default.removeItem(atPath: images) }
        try harness.manifests.write("a.yaml", vm("locked", address: "10.20.0.10", kernel: kernel.reference, root: nil))
        let auth = try ManifestDirectory()
        let noAuthFile = auth.path + "/none.json"

        // Without credentials: a conflict in the registry's words, the VM held back.
        let refused = try harness.cli("plan", environment: ["REGISTRY_AUTH_FILE": noAuthFile, "HOME": auth.path])
        #expect(refused.status == 1 || refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect((refused.stdout + refused.stderr).contains("cannot resolve it"), "\(refused.stdout)\(refused.stderr)")
        #expect((refused.stdout + refused.stderr).lowercased().contains("unauthorized")
                || (refused.stdout + refused.stderr).lowercased().contains("authentication required"), "\(refused.stdout)\(refused.stderr)")
        // With the auth file: resolved, pulled and booted.
        let credentials = ["REGISTRY_AUTH_FILE": try registry.authFile(in: auth.path), "HOME": auth.path]
        let planned = try harness.cli("plan", environment: credentials)
        #expect(planned.stdout.contains("pull image \(kernel.reference) (\(kernel.digest.prefix(19)))"), "\(planned.stdout)\(planned.stderr)")
        let applied = try harness.cli("apply", environment: credentials)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(eventually(timeout: 90) { harness.ns.http("http://10.20.0.10/") == "hello from locked" })
    }

    @Test func aMovedTagIsDriftAndAReferenceThatDoesNotResolveHoldsBackOnlyItsMicroVM() throws {
        let guest = try #require(TestEnvironment.guestDirectory)
        let registry = try LoopbackRegistry()
        let first = try registry.push("test/kernel", tag: "1", files: kernelFiles(guest))
        let (images, harness) = try bed("im")
        defer { harness.tearDown(); try? FileManager.default.removeItem(atPath: images) }
        try harness.manifests.write("a.yaml", vm("ta", address: "10.20.0.10", kernel: first.reference, root: nil))
        #expect(try harness.apply().converged)

        // The tag moves: the plan says from which digest to which, and the VM restarts on the new files.
        let extra = try ManifestDirectory(forVMMs: true)
        try "2\n".write(toFile: extra.path + "/version", atomically: true, encoding: .utf8)
        let second = try registry.push("test/kernel", tag: "1", files: kernelFiles(guest) + [(extra.path + "/version", "/etc/version")])
        #expect(second.digest != first.digest)
        let moved = try harness.plan()
        let pull = try #require(moved.changes.first { if case .fetchImage = $0.operation { true } else { false } }, "\(moved.summaries)")
        #expect(pull.reason == .imageMoved(from: first.digest, to: second.digest))
        #expect(pull.summary.contains("the tag moved"), "\(pull.summary)")
        #expect(moved.changes.contains { $0.action == .restart && $0.resource == .unit("mooring-vm-ta.service") }, "\(moved.summaries)")

        // A reference the registry does not know, with no copy here: a conflict for its MicroVM alone.
        try harness.manifests.write("b.yaml", vm("tb", address: "10.20.0.11", kernel: "\(registry.host)/test/missing:1", root: nil))
        let held = try harness.plan()
        let conflict = try #require(held.conflicts.first { $0.resource == .unit("mooring-vm-tb.service") }, "\(held.conflicts)")
        #expect(conflict.message.contains("test/missing:1") && conflict.message.contains("cannot resolve"), "\(conflict.message)")
        #expect(held.conflicts.count == 1, "\(held.conflicts.map(\.message))")
        #expect(held.changes.contains { $0.summary.contains("the tag moved") }, "ta's changes still run: \(held.summaries)")
        let applied = try harness.apply()
        #expect(applied.plan.held.allSatisfy { $0.group == .manifest(kind: .microVM, name: "tb") }, "\(applied.plan.held.map(\.summary))")
        // The old digest is no longer named: collected in that apply or the next.
        _ = try harness.apply()
        #expect(!FileManager.default.fileExists(atPath: "\(images)/.digests/\(first.digest.replacingOccurrences(of: ":", with: "-"))"))
        #expect(FileManager.default.fileExists(atPath: "\(images)/.digests/\(second.digest.replacingOccurrences(of: ":", with: "-"))"))
    }
}
