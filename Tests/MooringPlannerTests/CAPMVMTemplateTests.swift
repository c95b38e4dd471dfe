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

    /// No Host.spec.imageRoot: images are looked for under /var/lib/mooring/images (the template's macvtap still
    /// needs the host's parent interface), and the plan says which file is missing there and how to unpack it.
    @Test func withoutAnImageRootImagesAreUnderTheDefaultOne() throws {
        let result = Self.load(host: "apiVersion: mooring.dev/v1alpha1\nkind: Host\nmetadata: {name: hv1}\nspec: {parentInterface: eth0}\n")
        #expect(result.errors.isEmpty, "\(result.errors.map(\.message))")
        let desired = try #require(result.desired)
        #expect(desired.referencedFiles.contains("/var/lib/mooring/images/ghcr.io/weaveworks/flintlock-kernel:5.10.77/boot/vmlinux"))
        let conflict = Planner(desired: desired, observed: ObservedState()).plan().conflicts.first { $0.message.contains("spec.kernel") }
        #expect(conflict?.fix.contains("unpack ghcr.io/weaveworks/flintlock-kernel:5.10.77 under /var/lib/mooring/images") == true,
                "\(conflict?.fix ?? "no conflict")")
    }

    @Test func imageReferencesCannotClimbOutOfTheImageRoot() {
        for bad in ["../etc", "ghcr.io/../../etc", "/abs/image", "a//b", "ghcr.io/x y"] {
            #expect(!ManifestDecoder.isImageReference(bad), "\(bad)")
        }
        #expect(ManifestDecoder.isImageReference("ghcr.io/weaveworks/flintlock-kernel:5.10.77"))
        #expect(ManifestDecoder.isImageReference("registry.example.com:5000/kernel@sha256:0123abcd"))
    }
}
