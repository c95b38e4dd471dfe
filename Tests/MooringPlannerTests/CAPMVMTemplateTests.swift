@testable import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// A Cluster API Provider MicroVM `MicrovmMachineTemplate`'s `spec.template.spec`, as `clusterctl generate
/// cluster` renders CAPMVM's templates/cluster-template.yaml (its `${VAR:=default}`s at their defaults), with
/// the fields later CAPMVM versions added (`volumes`, `sshPublicKeys`, `providerID`, `failureDomain`), pasted in
/// under a mooring MicroVM's `spec:` verbatim.
@Suite struct CAPMVMTemplateTests {
    static let capmvmSpec = """
          vcpu: 2
          memoryMb: 2048
          rootVolume:
            id: root
            image: "ghcr.io/weaveworks/capmvm-kubernetes:1.21.8"
            mountPoint: "/"
          volumes:
          - id: containerd
            image: "ghcr.io/example/containerd-cache:1.0"
            mountPoint: "/var/lib/containerd"
            readOnly: false
          kernel:
            filename: "boot/vmlinux"
            image: "ghcr.io/weaveworks/flintlock-kernel:5.10.77"
          initrd:
            filename: "boot/initrd-generic"
            image: "ghcr.io/weaveworks/flintlock-kernel:5.10.77"
          kernelCmdline: console=ttyS0 reboot=k panic=1 pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd ds=nocloud-net;s=http://169.254.169.254/latest/
          networkInterfaces:
          - guestDeviceName: "eth1"
            type: "macvtap"
          sshPublicKeys:
          - user: "root"
            authorizedKeys:
            - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGt5Zm9vYmFyYmF6cXV4 ops@example.com"
          providerID: "microvm://127.0.0.1:9090/default/capmvm-md-0-abcde"
          failureDomain: "127.0.0.1:9090"
        """

    static let host = """
        apiVersion: mooring.dev/v1alpha1
        kind: Host
        metadata: {name: this-host}
        spec: {imageRoot: /var/lib/mooring/images, parentInterface: eth0, vmm: cloud-hypervisor}

        """

    static func load(host: String = host) -> ManifestLoadResult {
        let vm = "apiVersion: mooring.dev/v1alpha1\nkind: MicroVM\nmetadata: {name: capmvm-md-0-abcde}\nspec:\n"
            + capmvmSpec.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
        return ManifestSet.parse(files: [ManifestFile(path: "capmvm.yaml", text: host + "---\n" + vm)])
    }

    @Test func theTemplateValidatesWithNoErrorAndEveryFieldIsHonouredOrExplained() throws {
        let result = Self.load()
        #expect(result.errors.isEmpty, "\(result.errors.map(\.message))")
        // Two fields are explained as ignored; the only other word is that eth0 is the host's (plan checks it).
        let warnings = result.warnings.map(\.message)
        #expect(warnings.count == 3 && warnings.filter { $0.contains("is ignored") }.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.contains("is ignored: mooring runs on the host itself") }, "failureDomain: \(warnings)")
        #expect(warnings.contains { $0.contains("is ignored: Cluster API sets it") }, "providerID: \(warnings)")

        let vm = try #require(result.desired?.microVMs.first)
        #expect(vm.kernel == "/var/lib/mooring/images/ghcr.io/weaveworks/flintlock-kernel:5.10.77/boot/vmlinux")
        #expect(vm.initrd == "/var/lib/mooring/images/ghcr.io/weaveworks/flintlock-kernel:5.10.77/boot/initrd-generic")
        #expect(vm.rootVolume == DesiredVolume(id: "root", path: "/var/lib/mooring/images/ghcr.io/weaveworks/capmvm-kubernetes:1.21.8/disk.img", readOnly: false))
        #expect(vm.additionalVolumes == [DesiredVolume(id: "containerd", path: "/var/lib/mooring/images/ghcr.io/example/containerd-cache:1.0/disk.img",
                                                       readOnly: false, mountPoint: "/var/lib/containerd")])
        #expect(vm.interfaces.first?.parentInterface == "eth0", "the Host's default parent")
        #expect(vm.sshPublicKeys.first?.user == "root")
        #expect(vm.kernelCmdline.contains("ds=nocloud-net;s=http://169.254.169.254/latest/"))

        // It plans a VM with both disks and the seed after them, the volume mounted and the key given by cloud-init.
        let unit = try #require(VMMCommand.unit(for: vm, in: VMMEnvironment(executables: ["cloud-hypervisor": "/usr/bin/cloud-hypervisor"])))
        let disks = Array(unit.argv.drop { $0 != "--disk" }.dropFirst().prefix(3))
        #expect(disks == ["path=/var/lib/mooring/images/ghcr.io/weaveworks/capmvm-kubernetes:1.21.8/disk.img",
                          "path=/var/lib/mooring/images/ghcr.io/example/containerd-cache:1.0/disk.img",
                          "path=/run/mooring/vms/capmvm-md-0-abcde/cidata.img,readonly=on"], "\(unit.argv)")
        let userData = try #require(unit.seedDisk?.files.first { $0.path == "user-data" }).contents
        #expect(userData.contains("mounts:\n  - [\"/dev/vdb\", \"/var/lib/containerd\"]"), "\(userData)")
        #expect(userData.contains("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGt5Zm9vYmFyYmF6cXV4 ops@example.com"))
        // The plan checks the files are there before anything starts.
        let desired = try #require(result.desired)
        #expect(desired.referencedFiles.contains("/var/lib/mooring/images/ghcr.io/example/containerd-cache:1.0/disk.img"))
        let plan = Planner(desired: desired, observed: ObservedState()).plan()
        #expect(plan.conflicts.contains { $0.message.contains("spec.kernel /var/lib/mooring/images/ghcr.io/weaveworks/flintlock-kernel:5.10.77/boot/vmlinux does not exist") },
                "\(plan.conflicts.map(\.message))")
    }

    /// No Host.spec.imageRoot: images go under /var/lib/mooring/images (the template's macvtap still needs the
    /// host's parent interface). Offline with nothing cached, each VM is held back by a conflict naming the image
    /// and the registry's words; with the registry's answer, the plan pulls each digest once and the unit names
    /// that digest's files, the root volume through the VM's own layer.
    @Test func withoutAnImageRootImagesArePulledUnderTheDefaultOne() throws {
        let result = Self.load(host: "apiVersion: mooring.dev/v1alpha1\nkind: Host\nmetadata: {name: hv1}\nspec: {parentInterface: eth0}\n")
        #expect(result.errors.isEmpty, "\(result.errors.map(\.message))")
        let desired = try #require(result.desired)
        let kernel = "ghcr.io/weaveworks/flintlock-kernel:5.10.77"
        #expect(desired.referencedFiles.contains("/var/lib/mooring/images/\(kernel)/boot/vmlinux"))
        let references = try #require(desired.imagesToObserve?.references)
        var observed = ObservedState()
        observed.capabilities.executables = ["qemu-system-x86_64": "/usr/bin/qemu-system-x86_64"]
        observed.imageStore = ImageStore(root: "/var/lib/mooring/images")
        for reference in references {
            observed.imageStore?.images[reference] = ObservedImage(reference: reference, local: .absent, remoteProblem: "lookup ghcr.io: no such host")
        }
        let offline = Planner(desired: desired, observed: observed).plan()
        let conflict = offline.conflicts.first { $0.message.contains(kernel) }
        #expect(conflict?.message.contains("cannot resolve it (lookup ghcr.io: no such host) and the host has no copy") == true,
                "\(offline.conflicts.map(\.message))")
        #expect(!offline.changes.contains { if case .startUnit = $0.operation { true } else { false } })

        for (index, reference) in references.enumerated() {
            observed.imageStore?.images[reference]?.remoteDigest = "sha256:" + String(repeating: String(index), count: 64)
        }
        let online = Planner(desired: desired, observed: observed).plan()
        // (Held here: this host has neither the parent interface nor QEMU; the plan is complete all the same.)
        let all = online.changes + online.held
        let pulls = all.compactMap { change -> ImageFetch? in if case let .fetchImage(fetch) = change.operation { fetch } else { nil } }
        #expect(pulls.count == references.count, "\(online.changes.map(\.summary)) \(online.conflicts.map(\.message))")
        let kernelDigest = try #require(pulls.first { $0.reference == kernel }?.digest)
        let start = try #require(all.first { if case .startUnit = $0.operation { true } else { false } })
        guard case let .startUnit(unit) = start.operation else { return }
        #expect(unit.argv.contains("/var/lib/mooring/images/.digests/\(kernelDigest.replacingOccurrences(of: ":", with: "-"))/boot/vmlinux"), "\(unit.argv)")
        #expect(unit.argv.contains { $0.contains("file=/var/lib/mooring/images/.vm-disks/") && $0.contains("format=qcow2") }, "the root volume is the VM's own layer: \(unit.argv)")
        #expect(all.contains { if case .createVMDisk = $0.operation { true } else { false } })
    }

    @Test func imageReferencesCannotClimbOutOfTheImageRoot() {
        for bad in ["../etc", "ghcr.io/../../etc", "/abs/image", "a//b", "ghcr.io/x y", "kernel@sha256:0123abcd", "a@b@sha256:" + String(repeating: "0", count: 64)] {
            #expect(!ManifestDecoder.isImageReference(bad), "\(bad)")
        }
        #expect(ManifestDecoder.isImageReference("ghcr.io/weaveworks/flintlock-kernel:5.10.77"))
        #expect(ManifestDecoder.isImageReference("registry.example.com:5000/kernel@sha256:" + String(repeating: "0123abcd", count: 8)))
    }
}
