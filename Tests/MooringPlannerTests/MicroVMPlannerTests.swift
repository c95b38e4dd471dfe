import Foundation
import MooringModel
import MooringPlan
@testable import MooringPlanner
import MooringReports
import Testing

struct MicroVMPlannerTests {
    static func vm(_ vmm: VMMKind = .qemuMicrovm, accelerator: Accelerator = .kvm, macvtap: Bool = false,
                   volume: Bool = false) -> DesiredMicroVM {
        var interfaces = [DesiredInterface(guestDeviceName: "eth0", type: .tap, hostDeviceName: "vm-web-1-eth0",
                                           mac: MACAddress("02:00:00:00:00:01")!, addresses: [CIDR("10.0.0.10/24")!],
                                           gateways: [IPAddress("10.0.0.1")!], bridge: "microvm")]
        if macvtap {
            interfaces.append(DesiredInterface(guestDeviceName: "eth1", type: .macvtap, hostDeviceName: "vm-web-1-eth1",
                                               mac: MACAddress("02:00:00:00:00:02")!, parentInterface: "eth0"))
        }
        return DesiredMicroVM(origin: Fixture.origin(.microVM, "web-1"), name: "web-1", vcpu: 2, memoryMb: 256,
                              kernel: "/k/vmlinux", initrd: "/k/initrd", rootVolume: volume ? DesiredVolume(id: "root", path: "/d/root.img", readOnly: true) : nil,
                              kernelCmdline: "quiet", vmm: vmm, accelerator: accelerator, interfaces: interfaces)
    }

    static let environment = VMMEnvironment(executables: ["qemu-system-x86_64": "/usr/bin/qemu-system-x86_64",
                                                          "cloud-hypervisor": "/usr/bin/cloud-hypervisor",
                                                          "firecracker": "/usr/bin/firecracker"],
                                            mooringExecutable: "/usr/local/bin/mooring", networkNamespace: "lab",
                                            tscKHz: 2_445_000)

    @Test func qemuArgvIsAnArrayWithEverythingFromTheSpec() throws {
        let unit = try #require(VMMCommand.unit(for: Self.vm(accelerator: .tcg, volume: true), in: Self.environment))
        #expect(unit.name == "mooring-vm-web\\x2d1.service")
        #expect(unit.networkNamespacePath == "/run/netns/lab")
        #expect(unit.argv == [
            "/usr/bin/qemu-system-x86_64", "-name", "web-1", "-M", "microvm", "-accel", "tcg", "-cpu", "max", "-m", "256",
            "-smp", "2", "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
            "-serial", "file:/run/mooring/vms/web-1/vmm/console.log", "-qmp", "unix:/run/mooring/vms/web-1/vmm/qmp.sock,server=on,wait=off",
            "-kernel", "/k/vmlinux", "-initrd", "/k/initrd",
            "-append", "console=ttyS0 reboot=t panic=-1 tsc_early_khz=2445000 quiet ip=10.0.0.10::10.0.0.1:255.255.255.0:web-1:eth0:off",
            "-netdev", "tap,id=net0,ifname=vm-web-1-eth0,script=no,downscript=no,vhost=off,queues=2",
            "-device", "virtio-net-device,netdev=net0,mac=02:00:00:00:00:01,mq=on",
            "-drive", "id=root,file=/d/root.img,format=raw,if=none,readonly=on", "-device", "virtio-blk-device,drive=root",
            "-drive", "id=cidata,file=/run/mooring/vms/web-1/cidata.img,format=raw,if=none,readonly=on", "-device", "virtio-blk-device,drive=cidata",
        ])
        #expect(unit.seedDisk?.files.map(\.path) == ["meta-data", "network-config", "user-data"])
        #expect(unit.environment == ["MOORING_SPEC_HASH=\(unit.specHash)", "MOORING_POLICY_HASH=\(unit.policyHash)"])
    }

    /// QEMU is asked whether it runs on the socket its command line opens; the others are watched for the settle
    /// time. The probe is no part of the spec hash: adding it restarts no running VM.
    @Test func qemuUnitsAreReadyWhenQMPSaysRunning() throws {
        let qemu = try #require(VMMCommand.unit(for: Self.vm(), in: Self.environment))
        #expect(qemu.readiness == .qmpRunning(socket: "/run/mooring/vms/web-1/vmm/qmp.sock"))
        #expect(qemu.argv.contains("unix:/run/mooring/vms/web-1/vmm/qmp.sock,server=on,wait=off"))
        var unprobed = qemu
        unprobed.readiness = .staysUp
        #expect(VMMCommand.hashes(unprobed).guest == qemu.specHash)
        for vmm in [VMMKind.cloudHypervisor, .firecracker] {
            #expect(try #require(VMMCommand.unit(for: Self.vm(vmm), in: Self.environment)).readiness == .staysUp)
        }
    }

    @Test func kvmIsTheDefaultAccelerator() throws {
        let argv = try #require(VMMCommand.unit(for: Self.vm(), in: Self.environment)).argv
        #expect(argv.contains("kvm") && argv.contains("host"))
        #expect(!argv.contains { $0.contains("tsc_early_khz") }, "only emulated guests calibrate against the emulated PIT")
    }

    @Test func emulatedGuestsAreToldTheTSCFrequencyUnlessTheManifestSaysIt() throws {
        var vm = Self.vm(accelerator: .tcg)
        vm.kernelCmdline = "quiet tsc_early_khz=1000000"
        let line = VMMCommand.kernelCommandLine(vm, in: Self.environment)
        #expect(line.components(separatedBy: "tsc_early_khz=").count == 2 && line.contains("tsc_early_khz=1000000"))

        var unknown = Self.environment
        unknown.tscKHz = nil
        let plan = Planner(desired: DesiredState(microVMs: [Self.vm(accelerator: .tcg)]),
                           observed: ObservedState(capabilities: HostCapabilities(executables: unknown.executables,
                                                                                  existingFiles: ["/k/vmlinux", "/k/initrd"])),
                           target: PlanTarget(networkNamespace: "lab")).plan()
        #expect(plan.warnings.contains { $0.contains("TSC frequency is unknown") && $0.contains("tsc_early_khz=KHZ") })
    }

    @Test func macvtapGoesThroughExecVMAsAFileDescriptor() throws {
        let argv = try #require(VMMCommand.unit(for: Self.vm(macvtap: true), in: Self.environment)).argv
        #expect(Array(argv.prefix(5)) == ["/usr/local/bin/mooring", "exec-vm", "--device", "3=vm-web-1-eth1", "--"])
        #expect(argv.contains("tap,id=net1,fd=3,vhost=off"))
        #expect(argv.contains("virtio-net-device,netdev=net1,mac=02:00:00:00:00:02"))
    }

    /// Passthru hands the VM the whole NIC: the guest gets the parent's MAC as the host has it, and the planner
    /// never sets a MAC on the macvtap (the kernel would pass it down to the parent).
    @Test func passthruGuestsUseTheParentsOwnMAC() throws {
        var vm = Self.vm(macvtap: true)
        vm.interfaces[1].macvtapMode = .passthru
        var environment = Self.environment
        environment.parentMACs = ["eth0": MACAddress("02:00:00:00:bb:01")!]
        let argv = try #require(VMMCommand.unit(for: vm, in: environment)).argv
        #expect(argv.contains("virtio-net-device,netdev=net1,mac=02:00:00:00:bb:01"))
        #expect(argv.contains("virtio-net-device,netdev=net0,mac=02:00:00:00:00:01,mq=on"), "a tap keeps its own MAC")

        var links = Fixture.Links()
        links.add("eth0", .veth, mac: "02:00:00:00:bb:01")
        links.add("microvm", .bridge)
        vm.vmm = .none
        let plan = Planner(desired: DesiredState(microVMs: [vm]), observed: links.state).plan()
        let create = try #require(plan.changes.first { $0.resource == .link("vm-web-1-eth1") })
        guard case let .createLink(_, _, _, _, .macvtap(config)) = create.operation else { Issue.record("\(create)"); return }
        #expect(config.mode == .passthru && config.mac == nil)
        #expect(!plan.changes.contains { if case .setMAC = $0.operation { true } else { false } })
    }

    @Test func cloudHypervisorArgv() throws {
        let argv = try #require(VMMCommand.unit(for: Self.vm(.cloudHypervisor, macvtap: true, volume: true), in: Self.environment)).argv
        let vmm = Array(argv.drop { $0 != "/usr/bin/cloud-hypervisor" })
        #expect(vmm == [
            "/usr/bin/cloud-hypervisor", "--api-socket", "/run/mooring/vms/web-1/vmm/cloud-hypervisor.sock",
            "--kernel", "/k/vmlinux", "--initramfs", "/k/initrd",
            "--cmdline", "console=ttyS0 reboot=t panic=-1 quiet ip=10.0.0.10::10.0.0.1:255.255.255.0:web-1:eth0:off",
            "--cpus", "boot=2", "--memory", "size=256M",
            "--net", "tap=vm-web-1-eth0,mac=02:00:00:00:00:01,num_queues=4", "fd=3,mac=02:00:00:00:00:02",
            "--disk", "path=/d/root.img,readonly=on", "path=/run/mooring/vms/web-1/cidata.img,readonly=on", "--serial", "file=/run/mooring/vms/web-1/vmm/console.log", "--console", "off",
        ])
    }

    @Test func firecrackerGetsAConfigFile() throws {
        let unit = try #require(VMMCommand.unit(for: Self.vm(.firecracker, volume: true), in: Self.environment))
        #expect(unit.argv == ["/usr/bin/firecracker", "--api-sock", "/run/mooring/vms/web-1/vmm/firecracker.sock",
                              "--config-file", "/run/mooring/vms/web-1/firecracker.json"])
        let file = try #require(unit.files.first)
        let config = try #require(JSONValue.parse(file.contents))
        #expect(config["boot-source"]?["kernel_image_path"]?.string == "/k/vmlinux")
        #expect(config["boot-source"]?["initrd_path"]?.string == "/k/initrd")
        #expect(config["machine-config"]?["vcpu_count"]?.int == 2 && config["machine-config"]?["mem_size_mib"]?.int == 256)
        let nic = config["network-interfaces"]?.array?.first
        #expect(nic?["host_dev_name"]?.string == "vm-web-1-eth0")
        #expect(nic?["guest_mac"]?.string == "02:00:00:00:00:01")
        #expect(config["drives"]?.array?.first?["is_read_only"]?.bool == true)
    }

    @Test func vmmNoneHasNoUnit() {
        #expect(VMMCommand.unit(for: Self.vm(.none), in: Self.environment) == nil)
    }

    @Test func theSpecHashFollowsTheCommandLine() throws {
        let base = try #require(VMMCommand.unit(for: Self.vm(), in: Self.environment))
        var bigger = Self.vm()
        bigger.memoryMb = 512
        #expect(try #require(VMMCommand.unit(for: bigger, in: Self.environment)).specHash != base.specHash)
        #expect(try #require(VMMCommand.unit(for: Self.vm(), in: Self.environment)).specHash == base.specHash)
    }

    @Test(arguments: ["web-1", "a.b", "x_y:z", ".hidden", "a/b", "ünïcode", "back\\slash", "sp ace"])
    func unitNamesAreEscapedLikeSystemdEscape(_ name: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-escape")
        process.arguments = ["--", name]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let expected = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(SystemdNames.escape(name) == expected)
        #expect(SystemdNames.unescape(SystemdNames.escape(name)) == name.replacingOccurrences(of: "/", with: "/"))
    }

    /// What the guest sees restarts a VM; host-side policy alone (an upgraded mooring's sandbox, its binary
    /// moved) does not: the plan says the VM runs with an older policy, and `mooring restart` applies it.
    @Test func onlyWhatTheGuestSeesRestartsAVM() throws {
        let environment = VMMEnvironment(executables: Self.environment.executables, mooringExecutable: "/usr/local/bin/mooring")
        let spec = try #require(VMMCommand.unit(for: Self.vm(), in: environment))
        var moved = environment
        moved.mooringExecutable = "/usr/bin/mooring"
        let upgraded = try #require(VMMCommand.unit(for: Self.vm(), in: moved))
        #expect(upgraded.specHash == spec.specHash && upgraded.policyHash != spec.policyHash, "the stop command's path is policy")
        var memory = Self.vm()
        memory.memoryMb += 64
        #expect(try #require(VMMCommand.unit(for: memory, in: environment)).specHash != spec.specHash, "memory is the guest's")

        var capabilities = HostCapabilities(executables: Self.environment.executables, mooringExecutable: "/usr/bin/mooring",
                                            existingFiles: ["/k/vmlinux", "/k/initrd"])
        capabilities.vmmIdentity = VMMIdentity(user: nil, uid: 0, gid: 0)
        var links = Fixture.Links()
        links.add("microvm", .bridge)
        links.add("vm-web-1-eth0", .made(.tap(TapConfig(vnetHeader: true, multiQueue: true, owner: 0, group: 0))),
                  owner: "MicroVM/web-1", master: "microvm")
        var running = ObservedUnit(name: spec.name, activeState: "active", subState: "running", mainPID: 7, specHash: spec.specHash)
        running.policyHash = spec.policyHash
        func plan(_ restart: MicroVMSelection = .none) -> Plan {
            Planner(desired: DesiredState(microVMs: [Self.vm()]),
                    observed: ObservedState(links: links.links, units: [running], capabilities: capabilities),
                    target: PlanTarget(mooringExecutable: "/usr/bin/mooring", restart: restart)).plan()
        }
        let after = plan()
        #expect(!after.changes.contains { $0.resource.kind == "unit" }, "\(after.changes.map(\.summary))")
        #expect(after.warnings.contains { $0.contains("runs with an older host-side policy") && $0.contains("mooring restart web-1") },
                "\(after.warnings)")
        for selection in [MicroVMSelection.named(["web-1"]), .all] {
            let restart = plan(selection).changes.filter { $0.resource.kind == "unit" }
            #expect(restart.map(\.summary) == ["restart unit mooring-vm-web\\x2d1.service (mooring restart)"])
        }
        #expect(!plan(.named(["other"])).changes.contains { $0.resource.kind == "unit" })
    }

    @Test func unitPlanning() throws {
        let environment = VMMEnvironment(executables: Self.environment.executables, mooringExecutable: "/m")
        var capabilities = HostCapabilities(executables: Self.environment.executables, mooringExecutable: "/m",
                                            existingFiles: ["/k/vmlinux", "/k/initrd"])
        let spec = try #require(VMMCommand.unit(for: Self.vm(), in: environment))
        let desired = DesiredState(microVMs: [Self.vm()])
        var links = Fixture.Links()
        // The VM's bridge and tap exist: without the bridge the VM waits for that conflict, without the tap a
        // running VM restarts to use the new one.
        links.add("microvm", .bridge)
        links.add("vm-web-1-eth0", .made(.tap(TapConfig(vnetHeader: true, multiQueue: true, owner: 0, group: 0))),
                  owner: "MicroVM/web-1", master: "microvm")
        func plan(_ units: [ObservedUnit]) -> Plan {
            Planner(desired: desired, observed: ObservedState(links: links.links, units: units, capabilities: capabilities)).plan()
        }
        func unitChanges(_ plan: Plan) -> [String] { plan.changes.filter { $0.resource.kind == "unit" }.map(\.summary) }

        #expect(unitChanges(plan([])) == ["start unit mooring-vm-web\\x2d1.service (qemu-microvm, 2 vcpu, 256 MiB)"])
        var running = ObservedUnit(name: spec.name, activeState: "active", subState: "running", mainPID: 7, specHash: spec.specHash)
        running.policyHash = spec.policyHash
        #expect(unitChanges(plan([running])).isEmpty)
        #expect(plan([running]).warnings.isEmpty)
        var changed = running
        changed.specHash = "0000"
        #expect(plan([changed]).changes.last?.disruptive == true)
        var failed = running
        failed.activeState = "failed"
        #expect(unitChanges(plan([failed])) == ["restart unit mooring-vm-web\\x2d1.service (it is failed/running)"])
        // A failed VMM's account and last output are in the plan's reason, every time it is started again.
        failed.failure = "Result=start-limit-hit, main process exited, code=exited, status=1/FAILURE"
        failed.lastOutput = ["qemu-system-x86_64: -kernel /k/vmlinux: cannot load"]
        let reason = try #require(plan([failed]).changes.first { $0.resource.kind == "unit" }?.reason)
        #expect(reason == .vmmFailed(failure: failed.failure, lastOutput: failed.lastOutput))
        #expect(reason.text.contains("start-limit-hit") && reason.text.contains("cannot load"), "\(reason.text)")
        let stray = ObservedUnit(name: "mooring-vm-old.service", activeState: "active", subState: "running")
        let stop = try #require(plan([running, stray]).changes.first { $0.resource == .unit("mooring-vm-old.service") })
        #expect(stop.summary == "stop unit mooring-vm-old.service (no longer in manifests): power button, then terminate")
        #expect(stop.disruptive, "stopping a running guest is disruptive")

        // A unit of that name runs for another target: systemd would refuse the start; the plan says so first.
        var elsewhere = ObservedState(links: links.links, units: [], capabilities: capabilities)
        elsewhere.unitsOfOtherTargets = [ObservedUnit(name: spec.name, activeState: "active", subState: "running",
                                                      networkNamespacePath: "/run/netns/other")]
        let taken = Planner(desired: desired, observed: elsewhere).plan()
        #expect(unitChanges(taken).isEmpty)
        #expect(taken.conflicts.map(\.message) == ["mooring-vm-web\\x2d1.service already runs for another target (netns other): a MicroVM's unit is one per host"])

        capabilities.existingFiles = []
        capabilities.kvmProblem = "no kvm"
        let missing = plan([])
        #expect(missing.conflicts.map(\.message).contains("MicroVM \"web-1\" spec.kernel /k/vmlinux does not exist"))
        #expect(missing.conflicts.allSatisfy { $0.group == .manifest(kind: .microVM, name: "web-1") })
        #expect(missing.warnings.first?.contains("asks for KVM, but no kvm") == true)
    }
}
