import Foundation
import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// The unit a VMM runs in: unprivileged, sandboxed, stopped through the guest's power button; all of it in the
/// UnitSpec (so in the plan and the spec hash). The real thing is tested under PID 1 (MicroVMSandboxTests).
struct VMMSandboxTests {
    static let identity = VMMIdentity(user: "mooring-vmm", uid: 998, gid: 997, supplementaryGroups: ["kvm"], supplementaryGIDs: [106])

    static func environment(_ identity: VMMIdentity? = Self.identity) -> VMMEnvironment {
        var environment = MicroVMPlannerTests.environment
        environment.identity = identity
        return environment
    }

    static func properties(_ unit: UnitSpec) -> [String: [String]] {
        Dictionary(grouping: unit.properties, by: \.name).mapValues { $0.map(\.description) }
    }

    @Test func theVMMRunsAsItsOwnUserWithNoCapabilities() throws {
        let unit = try #require(VMMCommand.unit(for: MicroVMPlannerTests.vm(accelerator: .tcg, volume: true), in: Self.environment()))
        let properties = Self.properties(unit)
        #expect(properties["User"] == ["User=mooring-vmm"] && properties["Group"] == ["Group=mooring-vmm"])
        #expect(properties["SupplementaryGroups"] == ["SupplementaryGroups=kvm"])
        #expect(properties["CapabilityBoundingSet"] == ["CapabilityBoundingSet=0"] && properties["AmbientCapabilities"] == ["AmbientCapabilities=0"])
        #expect(properties["NoNewPrivileges"] == ["NoNewPrivileges=yes"] && properties["ProtectSystem"] == ["ProtectSystem=strict"])
        #expect(properties["ProtectHome"] == ["ProtectHome=tmpfs"] && properties["PrivateTmp"] == ["PrivateTmp=yes"])
        #expect(properties["DevicePolicy"] == ["DevicePolicy=closed"])
        // TCG: no /dev/kvm; a tap: /dev/net/tun; no vhost-net on this host.
        #expect(properties["DeviceAllow"] == ["DeviceAllow=/dev/net/tun:rw"])
        #expect(properties["SystemCallFilter"] == ["SystemCallFilter=@system-service seccomp", "SystemCallFilter=~@privileged"])
        #expect(properties["RestrictAddressFamilies"] == ["RestrictAddressFamilies=AF_UNIX"])
        #expect(properties["BindPaths"] == ["BindPaths=/run/mooring/vms/web-1"])
        #expect(properties["MemoryDenyWriteExecute"] == nil, "TCG's JIT writes code")
        #expect(properties["ReadWritePaths"] == nil, "the disk is read-only")
        #expect(unit.runDirectoryGroup == 997)
    }

    @Test func kvmGuestsGetTheirDevicesAndNoWritableCode() throws {
        var environment = Self.environment()
        environment.vhostNet = true
        var vm = MicroVMPlannerTests.vm(volume: true)
        vm.rootVolume?.readOnly = false
        let properties = Self.properties(try #require(VMMCommand.unit(for: vm, in: environment)))
        #expect(properties["DeviceAllow"] == ["DeviceAllow=/dev/kvm:rw /dev/net/tun:rw /dev/vhost-net:rw"])
        #expect(properties["MemoryDenyWriteExecute"] == ["MemoryDenyWriteExecute=yes"])
        #expect(properties["ReadWritePaths"] == ["ReadWritePaths=/d/root.img"], "a writable disk is the one writable file")
        let argv = try #require(VMMCommand.unit(for: vm, in: environment)).argv
        #expect(argv.contains { $0.hasPrefix("tap,id=net0,") && $0.contains("vhost=on") })
    }

    /// macvtap devices are opened as root by `exec-vm`, which then becomes the VMM's user itself.
    @Test func theMacvtapLauncherDropsToTheVMMsUser() throws {
        let unit = try #require(VMMCommand.unit(for: MicroVMPlannerTests.vm(macvtap: true), in: Self.environment()))
        #expect(Array(unit.argv.prefix(4)) == ["/usr/local/bin/mooring", "exec-vm", "--user", "998:997:106"])
        let properties = Self.properties(unit)
        #expect(properties["User"] == nil)
        // CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, CAP_MKNOD and nothing else.
        #expect(properties["CapabilityBoundingSet"] == ["CapabilityBoundingSet=\((1 << 6) | (1 << 7) | (1 << 21) | (1 << 27))"])
        #expect(properties["DeviceAllow"]?.first?.contains("char-macvtap:rw") == true)
    }

    /// Under a user manager the VMM runs as the manager's user: no User=, and no options the manager can only
    /// apply through a user namespace.
    @Test func aUserManagersUnitsSwitchNoUser() throws {
        let unit = try #require(VMMCommand.unit(for: MicroVMPlannerTests.vm(), in: Self.environment(VMMIdentity(user: nil, uid: 0, gid: 0))))
        let properties = Self.properties(unit)
        #expect(properties["User"] == nil && properties["ProtectHome"] == nil && properties["ProtectKernelTunables"] == nil)
        #expect(properties["CapabilityBoundingSet"] == ["CapabilityBoundingSet=0"])
    }

    /// The files a VM uses are bound into its sandbox wherever they live (read-only, the writable disk writable):
    /// a kernel under /tmp or an initrd in a home directory is no longer hidden by PrivateTmp or ProtectHome. A
    /// directory above such a file that the VMM's user may not enter does not count where the sandbox replaces it
    /// (a private /tmp, an empty home), and still does elsewhere, with a fix that names it.
    @Test func theFilesAVMUsesAreBoundIntoItsSandboxWhereverTheyLive() throws {
        var capabilities = HostCapabilities(executables: MicroVMPlannerTests.environment.executables,
                                            existingFiles: ["/tmp/k/vmlinux", "/home/op/initrd", "/srv/private/disk.img"])
        capabilities.vmmIdentity = Self.identity
        capabilities.vmmFileProblems = ["/home/op/initrd": FileAccessProblem(blockedDirectory: "/home/op", "mooring-vmm cannot enter /home/op"),
                                        "/tmp/k/vmlinux": FileAccessProblem(blockedDirectory: "/tmp/k", "mooring-vmm cannot enter /tmp/k")]
        var vm = MicroVMPlannerTests.vm()
        vm.kernel = "/tmp/k/vmlinux"
        vm.initrd = "/home/op/initrd"
        let unit = try #require(VMMCommand.unit(for: vm, in: Self.environment()))
        #expect(Self.properties(unit)["BindReadOnlyPaths"] == ["BindReadOnlyPaths=/home/op/initrd /tmp/k/vmlinux"])
        var links = Fixture.Links()
        links.add("microvm", .bridge)
        func conflicts(_ capabilities: HostCapabilities) -> [Conflict] {
            Planner(desired: DesiredState(microVMs: [vm]), observed: ObservedState(links: links.links, capabilities: capabilities)).plan().conflicts
        }
        #expect(conflicts(capabilities).isEmpty, "\(conflicts(capabilities).map(\.message))")

        // Outside the trees the sandbox replaces, a directory the VMM may not enter is still in the way.
        vm.initrd = "/srv/private/initrd"
        capabilities.existingFiles.insert("/srv/private/initrd")
        capabilities.vmmFileProblems["/srv/private/initrd"] = FileAccessProblem(blockedDirectory: "/srv/private", "mooring-vmm cannot enter /srv/private")
        let blocked = conflicts(capabilities)
        #expect(blocked.count == 1 && blocked.first?.message.contains("spec.initrd /srv/private/initrd: mooring-vmm cannot enter /srv/private") == true,
                "\(blocked.map(\.message))")
        #expect(blocked.first?.fix.contains("chmod o+x /srv/private") == true && blocked.first?.fix.contains("home") == false, "\(blocked.map(\.fix))")
    }

    /// A mooring built under /tmp (a fresh clone there) must still be executable by the unit (stop-vm, exec-vm):
    /// such a unit keeps the host's /tmp, and the plan says why.
    @Test func aMooringUnderTmpKeepsTheHostsTmp() throws {
        var environment = Self.environment()
        environment.mooringExecutable = "/tmp/clone/.build/debug/mooring"
        let unit = try #require(VMMCommand.unit(for: MicroVMPlannerTests.vm(), in: environment))
        #expect(Self.properties(unit)["PrivateTmp"] == ["PrivateTmp=no"])
        #expect(Self.properties(try #require(VMMCommand.unit(for: MicroVMPlannerTests.vm(), in: Self.environment())))["PrivateTmp"]
                == ["PrivateTmp=yes"])
        var capabilities = HostCapabilities(executables: environment.executables, mooringExecutable: environment.mooringExecutable,
                                            existingFiles: ["/k/vmlinux", "/k/initrd"])
        capabilities.vmmIdentity = Self.identity
        let plan = Planner(desired: DesiredState(microVMs: [MicroVMPlannerTests.vm()]), observed: ObservedState(capabilities: capabilities)).plan()
        #expect(plan.warnings.contains { $0.contains("PrivateTmp=no") }, "\(plan.warnings)")
    }

    @Test func everyStopGoesThroughThePowerButtonWithinTheVMsTimeout() throws {
        var vm = MicroVMPlannerTests.vm()
        vm.stopTimeoutSeconds = 7
        let unit = try #require(VMMCommand.unit(for: vm, in: Self.environment()))
        #expect(unit.stopCommand == ["/usr/local/bin/mooring", "stop-vm", "--vmm", "qemu-microvm", "--socket", "/run/mooring/vms/web-1/vmm/qmp.sock",
                                     "--timeout", "7", "--record", "/run/mooring/vms/web-1/vmm/last-stop.json"])
        #expect(Self.properties(unit)["TimeoutStopUSec"] == ["TimeoutStopUSec=17000000"])
        vm.stopTimeoutSeconds = 8
        // Host-side policy: a new timeout applies at the VM's next restart, and restarts nothing by itself.
        let retimed = try #require(VMMCommand.unit(for: vm, in: Self.environment()))
        #expect(retimed.specHash == unit.specHash && retimed.policyHash != unit.policyHash, "the timeout is policy")
        let firecracker = try #require(VMMCommand.unit(for: MicroVMPlannerTests.vm(.firecracker), in: Self.environment()))
        #expect(firecracker.stopCommand?.contains("/run/mooring/vms/web-1/vmm/firecracker.sock") == true)
    }

    /// Taps are made for the VMM: owned by its user and group, one queue per vCPU.
    @Test func tapsAreOwnedByTheVMMsUserWithAQueuePerVCPU() throws {
        var capabilities = HostCapabilities(executables: MicroVMPlannerTests.environment.executables,
                                            existingFiles: ["/k/vmlinux", "/k/initrd"])
        capabilities.vmmIdentity = Self.identity
        var links = Fixture.Links()
        links.add("microvm", .bridge)
        let plan = Planner(desired: DesiredState(microVMs: [MicroVMPlannerTests.vm()]),
                           observed: ObservedState(links: links.links, capabilities: capabilities)).plan()
        let create = try #require(plan.changes.first { $0.resource == .link("vm-web-1-eth0") })
        guard case let .createLink(_, _, _, _, .tap(config)) = create.operation else { Issue.record("\(create)"); return }
        #expect(config == TapConfig(vnetHeader: true, multiQueue: true, owner: 998, group: 997))
        #expect(create.summary.contains("multi_queue owner 998 group 997"))

        // A tap another owner (or an older mooring) made is replaced, and the VM restarts onto the new one.
        links.add("vm-web-1-eth0", .made(.tap(TapConfig(vnetHeader: true, multiQueue: true))),
                  owner: "MicroVM/web-1", master: "microvm")
        let again = Planner(desired: DesiredState(microVMs: [MicroVMPlannerTests.vm()]),
                            observed: ObservedState(links: links.links, capabilities: capabilities)).plan()
        #expect(again.changes.contains { $0.resource == .link("vm-web-1-eth0") && $0.action == .replace }, "\(again.changes.map(\.summary))")
    }

    /// What would fail the start is a conflict before anything starts: no VMM user, a file it cannot read.
    @Test func aMissingUserOrAnUnreadableFileIsAConflict() throws {
        var capabilities = HostCapabilities(executables: MicroVMPlannerTests.environment.executables,
                                            existingFiles: ["/k/vmlinux", "/k/initrd"])
        capabilities.vmmIdentity = nil
        capabilities.vmmIdentityProblem = "the user mooring-vmm does not exist"
        capabilities.vmmFileProblems = ["/k/initrd": FileAccessProblem("mooring-vmm cannot read it (owner 0, group 0, mode 600)")]
        var links = Fixture.Links()
        links.add("microvm", .bridge)
        let plan = Planner(desired: DesiredState(microVMs: [MicroVMPlannerTests.vm()]),
                           observed: ObservedState(links: links.links, capabilities: capabilities)).plan()
        let messages = plan.conflicts.map(\.message)
        #expect(messages.contains { $0.contains("mooring-vmm does not exist") }, "\(messages)")
        #expect(messages.contains { $0.contains("spec.initrd /k/initrd: mooring-vmm cannot read it") }, "\(messages)")
        #expect(!plan.changes.contains { $0.resource.kind == "unit" })
    }
}
