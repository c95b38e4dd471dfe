import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// A writable disk is one VM's alone: named by two VMs (directly or through a symlink), leading out of the image
/// root, or owned by another user, it is a conflict that holds back the VM, and nothing of it starts.
struct WritableDiskTests {
    static func vm(_ name: String, disk: String, readOnly: Bool = false) -> DesiredMicroVM {
        DesiredMicroVM(origin: Fixture.origin(.microVM, name), name: name, kernel: "/k/vmlinux",
                       rootVolume: DesiredVolume(id: "root", path: disk, readOnly: readOnly), vmm: .qemuMicrovm, accelerator: .tcg)
    }

    static func conflicts(_ vms: [DesiredMicroVM], facts: [String: FileFact], imageRoot: String? = nil, vmmUID: UInt32 = 990) -> [String] {
        var capabilities = HostCapabilities(executables: ["qemu-system-x86_64": "/usr/bin/qemu-system-x86_64"], mooringExecutable: "/usr/bin/mooring",
                                            existingFiles: Set(["/k/vmlinux"] + facts.keys),
                                            vmmIdentity: VMMIdentity(user: "mooring-vmm", uid: vmmUID, gid: vmmUID))
        capabilities.fileFacts = facts
        var desired = DesiredState(microVMs: vms)
        desired.host.imageRoot = imageRoot
        return Planner(desired: desired, observed: ObservedState(capabilities: capabilities)).plan().conflicts.map(\.message)
    }

    @Test func twoVMsWritingOneDiskIsAConflictForBoth() {
        let facts = ["/d/shared.img": FileFact(resolved: "/d/shared.img", owner: 0)]
        let found = Self.conflicts([Self.vm("a", disk: "/d/shared.img"), Self.vm("b", disk: "/d/shared.img")], facts: facts)
        #expect(found.filter { $0.contains("uses the same disk") }.count == 2, "\(found)")
        // Shared read-only: fine.
        #expect(Self.conflicts([Self.vm("a", disk: "/d/shared.img", readOnly: true), Self.vm("b", disk: "/d/shared.img", readOnly: true)],
                               facts: facts).isEmpty)
    }

    @Test func aSymlinkToAnotherVMsDiskIsAConflict() {
        let facts = ["/d/a.img": FileFact(resolved: "/d/a.img", owner: 0), "/d/b.img": FileFact(resolved: "/d/a.img", owner: 0)]
        let found = Self.conflicts([Self.vm("a", disk: "/d/a.img"), Self.vm("b", disk: "/d/b.img")], facts: facts)
        #expect(found.filter { $0.contains("leads to the same file, /d/a.img") }.count == 2, "\(found)")
    }

    @Test func anImageDiskLeadingOutOfTheImageRootIsAConflict() {
        let facts = ["/images/deb/disk.img": FileFact(resolved: "/var/lib/other/secret.img", owner: 0)]
        let found = Self.conflicts([Self.vm("a", disk: "/images/deb/disk.img")], facts: facts, imageRoot: "/images")
        #expect(found.contains { $0.contains("leads outside the image root /images, to /var/lib/other/secret.img") }, "\(found)")
    }

    @Test func aDiskOfAnotherUsersIsAConflictButRootsAndTheVMMsAreNot() {
        #expect(Self.conflicts([Self.vm("a", disk: "/d/a.img")], facts: ["/d/a.img": FileFact(resolved: "/d/a.img", owner: 1000)])
            .contains { $0.contains("belongs to uid 1000, neither root nor mooring-vmm") })
        #expect(Self.conflicts([Self.vm("a", disk: "/d/a.img")], facts: ["/d/a.img": FileFact(resolved: "/d/a.img", owner: 990)]).isEmpty)
        #expect(Self.conflicts([Self.vm("a", disk: "/d/a.img")], facts: ["/d/a.img": FileFact(resolved: "/d/a.img", owner: 0)]).isEmpty)
    }
}
