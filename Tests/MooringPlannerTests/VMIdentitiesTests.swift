import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// One identity per MicroVM: distinct uids of mooring's range, the same for the same manifests, kept by a VM that
/// has one, never one the host's own files hold; the shared user where systemd cannot read the records.
struct VMIdentitiesTests {
    static let shared = VMMIdentity(user: "mooring-vmm", uid: 995, gid: 995, supplementaryGroups: ["kvm"], supplementaryGIDs: [996])

    static func desired(_ names: [String]) -> DesiredState {
        DesiredState(microVMs: names.map { DesiredMicroVM(origin: Fixture.origin(.microVM, $0), name: $0, vmm: .qemuMicrovm) })
    }

    static func observed(records: [String: UInt32] = [:], foreign: [UInt32] = [], userDatabase: Bool = true) -> ObservedState {
        var capabilities = HostCapabilities(vmmIdentity: shared)
        capabilities.userDatabase = userDatabase
        capabilities.foreignIDs = foreign
        var observed = ObservedState(capabilities: capabilities)
        observed.vmIdentities = records
        return observed
    }

    @Test func eachVMGetsAUidOfItsOwnTheSameEveryTime() {
        let names = (1...300).map { "vm\($0)" }
        let first = VMIdentities.allocate(Self.desired(names), observed: Self.observed())
        #expect(first.count == 300 && Set(first.values.map(\.uid)).count == 300, "distinct")
        #expect(first.values.allSatisfy { VMIdentities.contains($0.uid) && $0.gid == $0.uid })
        #expect(first["vm1"]?.supplementaryGroups == ["mooring-vmm", "kvm"] && first["vm1"]?.supplementaryGIDs == [995, 996])
        #expect(VMIdentities.allocate(Self.desired(names.reversed()), observed: Self.observed()) == first, "order of the manifests does not matter")
    }

    @Test func aVMKeepsItsUidWhenAnotherArrivesOnItsSlot() {
        let web = VMIdentities.allocate(Self.desired(["web"]), observed: Self.observed())["web"]!.uid
        // Another VM whose hash would take web's slot first, were web not there: web keeps its uid.
        let records = ["web": web]
        let both = VMIdentities.allocate(Self.desired(["web", "aaa"]), observed: Self.observed(records: ["aaa": web, "web": web]))
        #expect(both["web"]?.uid == web || both["aaa"]?.uid == web)
        #expect(both["web"]?.uid != both["aaa"]?.uid)
        let kept = VMIdentities.allocate(Self.desired(["web", "new"]), observed: Self.observed(records: records))
        #expect(kept["web"]?.uid == web)
    }

    @Test func uidsTheHostsFilesHoldAreSkipped() {
        let plain = VMIdentities.allocate(Self.desired(["web"]), observed: Self.observed())["web"]!.uid
        let moved = VMIdentities.allocate(Self.desired(["web"]), observed: Self.observed(foreign: [plain]))["web"]!.uid
        #expect(moved != plain && VMIdentities.contains(moved))
    }

    @Test func withoutTheUserDatabaseOrUnderAUserManagerVMMsShareOneUser() {
        #expect(VMIdentities.allocate(Self.desired(["web"]), observed: Self.observed(userDatabase: false)).isEmpty)
        var userManager = Self.observed()
        userManager.capabilities.vmmIdentity = VMMIdentity(user: nil, uid: 0, gid: 0)
        #expect(VMIdentities.allocate(Self.desired(["web"]), observed: userManager).isEmpty)
    }

    @Test func userNamesFitThirtyOneCharacters() {
        #expect(VMIdentities.userName(forMicroVM: "web") == "vm-web")
        let long = VMIdentities.userName(forMicroVM: String(repeating: "a", count: 63))
        #expect(long.count <= 31 && long.hasPrefix("vm-aaaa"))
        #expect(VMIdentities.userName(forMicroVM: String(repeating: "a", count: 62) + "b") != long)
    }

    /// The unit runs as the VM's user, its taps are that user's, its run directory that group's, its writable
    /// disks handed to it.
    @Test func theUnitAndTheTapsUseTheVMsOwnIdentity() throws {
        var vm = DesiredMicroVM(origin: Fixture.origin(.microVM, "web"), name: "web", kernel: "/k/vmlinux",
                                rootVolume: DesiredVolume(id: "root", path: "/d/web.img", readOnly: false), vmm: .qemuMicrovm, accelerator: .tcg,
                                interfaces: [DesiredInterface(guestDeviceName: "eth0", type: .tap, hostDeviceName: "vm-web-eth0",
                                                              mac: MACAddress("02:00:00:00:00:01")!, bridge: "br0")])
        vm.cloudInit = false
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [vm])
        var observed = Self.observed()
        observed.capabilities.executables = ["qemu-system-x86_64": "/usr/bin/qemu-system-x86_64"]
        observed.capabilities.existingFiles = ["/k/vmlinux", "/d/web.img"]
        let plan = Planner(desired: desired, observed: observed).plan()
        #expect(plan.conflicts.isEmpty, "\(plan.conflicts.map(\.message))")
        let own = try #require(VMIdentities.allocate(desired, observed: observed)["web"])
        let unit = try #require(plan.changes.compactMap(\.operation.unitToStart).first)
        #expect(unit.properties.contains(.string(name: "User", value: own.user!)) && unit.identity?.uid == own.uid)
        #expect(unit.runDirectoryGroup == own.gid && unit.ownedDisks == ["/d/web.img"])
        let tap = plan.changes.first { $0.resource == .link("vm-web-eth0") }
        #expect(tap?.summary.contains("owner \(own.uid) group \(own.gid)") == true, "\(tap?.summary ?? "no tap")")
    }
}
