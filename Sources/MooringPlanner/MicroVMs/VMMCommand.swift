import Foundation
import MooringModel
import MooringPlan

/// What the VMM command lines depend on besides the manifest: found on the host by the drivers.
public struct VMMEnvironment: Sendable, Codable, Equatable {
    /// Absolute paths of the VMM programs, by name (`qemu-system-x86_64`); absent when not installed.
    public var executables: [String: String]
    /// mooring's own executable, for `mooring exec-vm` (macvtap devices are handed to the VMM as file descriptors).
    public var mooringExecutable: String
    public var runRoot: String
    public var networkNamespace: String?
    /// The host's TSC frequency (kHz), told to TCG guests; see `kernelCommandLine`.
    public var tscKHz: Int?
    /// The MACs of host interfaces, by name, for passthru macvtap parents (see `guestMAC`).
    public var parentMACs: [String: MACAddress]
    /// Who the VMM runs as (`VMMSandbox`); nil runs it as the manager's user.
    public var identity: VMMIdentity?
    /// /dev/vhost-net exists: taps are served by the kernel's vhost-net.
    public var vhostNet: Bool
    /// journald runs: the VMM's output goes to the journal rather than to a file.
    public var journal: Bool

    public init(executables: [String: String] = [:], mooringExecutable: String = "/usr/local/bin/mooring",
                runRoot: String = "/run/mooring", networkNamespace: String? = nil, tscKHz: Int? = nil,
                parentMACs: [String: MACAddress] = [:], identity: VMMIdentity? = nil, vhostNet: Bool = false,
                journal: Bool = false) {
        self.journal = journal
        self.identity = identity
        self.vhostNet = vhostNet
        self.executables = executables
        self.mooringExecutable = mooringExecutable
        self.runRoot = runRoot
        self.networkNamespace = networkNamespace
        self.tscKHz = tscKHz
        self.parentMACs = parentMACs
    }

    /// The MAC the guest is given. A passthru macvtap hands the VM the whole NIC, MAC included: the guest uses
    /// the parent's own MAC (an SR-IOV VF often drops frames from any other), and mooring never changes it.
    public func guestMAC(_ interface: DesiredInterface) -> MACAddress {
        guard interface.type == .macvtap, interface.macvtapMode == .passthru,
              let parent = interface.parentInterface, let mac = parentMACs[parent] else { return interface.mac }
        return mac
    }
}

/// Builds a MicroVM's unit: the VMM argv (qemu microvm, cloud-hypervisor or firecracker) and its files. Pure.
public enum VMMCommand {
    /// The kernel command line: a serial console, no reboot loops, the TSC frequency under TCG, the manifest's
    /// arguments, and `ip=` per interface with an address (the standard form; kernels with IP_PNP use the first).
    public static func kernelCommandLine(_ vm: DesiredMicroVM, in environment: VMMEnvironment) -> String {
        var parts = ["console=ttyS0", "reboot=t", "panic=-1"]
        if let tsc = tscEarlyKHz(vm, in: environment) { parts.append("tsc_early_khz=\(tsc)") }
        if !vm.kernelCmdline.isEmpty { parts.append(vm.kernelCmdline) }
        for interface in vm.interfaces {
            guard let address = interface.ipv4Address else { continue }
            parts.append("ip=\(address.address)::\(interface.ipv4Gateway?.description ?? ""):\(address.netmask):\(vm.name):\(interface.guestDeviceName):off")
        }
        return parts.joined(separator: " ")
    }

    /// Under TCG the guest's TSC is the host's (QEMU reads the host's counter), but a stock kernel calibrates it
    /// against the emulated PIT, and on a busy host (several guests booting at once) that calibration fails
    /// ("Unable to calibrate against PIT ... Marking TSC unstable") and the guest spins in early boot for good.
    /// Told the frequency with `tsc_early_khz=`, the kernel skips the calibration: 3 guests booting together on
    /// 2 cores went from 6/15 to 30/30 (docs/reliability.md). A manifest's own `tsc_early_khz=` wins.
    public static func tscEarlyKHz(_ vm: DesiredMicroVM, in environment: VMMEnvironment) -> Int? {
        guard needsTSCFrequency(vm) else { return nil }
        return environment.tscKHz
    }

    /// An emulated guest whose manifest does not give the TSC frequency itself.
    public static func needsTSCFrequency(_ vm: DesiredMicroVM) -> Bool {
        vm.accelerator == .tcg && !vm.kernelCmdline.contains("tsc_early_khz=")
    }

    /// Queues per tap: one per vCPU, at most 8 (beyond that the virtio-mmio transport gains nothing), for the
    /// VMMs that open a tap once per queue (QEMU, cloud-hypervisor); firecracker opens one.
    public static func tapQueues(_ vm: DesiredMicroVM) -> Int {
        switch vm.vmm {
        case .qemuMicrovm, .cloudHypervisor: return min(vm.vcpu, 8)
        case .firecracker, .none: return 1
        }
    }

    /// The VMM's control socket, through which the stop command asks the guest to power off.
    static func controlSocket(_ vm: DesiredMicroVM, runDirectory: String) -> String? {
        switch vm.vmm {
        case .qemuMicrovm: return UnitSpec.vmmDirectory(of: runDirectory) + "/qmp.sock"
        case .cloudHypervisor: return UnitSpec.vmmDirectory(of: runDirectory) + "/cloud-hypervisor.sock"
        case .firecracker: return UnitSpec.vmmDirectory(of: runDirectory) + "/firecracker.sock"
        case .none: return nil
        }
    }

    /// The unit for `vm`, or nil for `vmm: none` (another tool runs the VMM).
    public static func unit(for vm: DesiredMicroVM, in environment: VMMEnvironment) -> UnitSpec? {
        guard let program = vm.vmm.program else { return nil }
        let executable = environment.executables[program] ?? "/usr/bin/\(program)"
        let runDirectory = "\(environment.runRoot)/vms/\(vm.name)"
        // macvtap devices reach the VMM as file descriptors 3, 4, ... opened by `mooring exec-vm`.
        var descriptors: [(fd: Int, device: String)] = []
        for interface in vm.interfaces where interface.type == .macvtap {
            descriptors.append((3 + descriptors.count, interface.hostDeviceName))
        }
        func fd(_ interface: DesiredInterface) -> Int? { descriptors.first { $0.device == interface.hostDeviceName }?.fd }

        var argv: [String]
        var files: [UnitFile] = []
        let seed = CloudInitSeed.disk(vm, runDirectory: runDirectory)
        switch vm.vmm {
        case .qemuMicrovm:
            argv = qemu(vm, environment: environment, executable: executable, runDirectory: runDirectory, seed: seed, fd: fd)
        case .cloudHypervisor:
            argv = cloudHypervisor(vm, environment: environment, executable: executable, runDirectory: runDirectory, seed: seed, fd: fd)
        case .firecracker:
            let config = runDirectory + "/firecracker.json"
            files.append(UnitFile(path: config, contents: firecrackerConfig(vm, environment: environment, seed: seed)))
            argv = [executable, "--api-sock", controlSocket(vm, runDirectory: runDirectory)!, "--config-file", config]
        case .none:
            return nil
        }
        let launcher = !descriptors.isEmpty
        var launcherUser: [String] = []
        if launcher {
            // exec-vm opens the macvtaps as root, then becomes the VMM's user before it executes the VMM.
            if let identity = environment.identity, identity.user != nil {
                launcherUser = ["--user", ([identity.uid, identity.gid] + identity.supplementaryGIDs).map(String.init).joined(separator: ":")]
            }
            argv = [environment.mooringExecutable, "exec-vm"] + launcherUser
                + descriptors.flatMap { ["--device", "\($0.fd)=\($0.device)"] } + ["--"] + argv
        }
        let socket = controlSocket(vm, runDirectory: runDirectory)
        let stopCommand = socket.map { socket in
            [environment.mooringExecutable, "stop-vm", "--vmm", vm.vmm.rawValue, "--socket", socket,
             "--timeout", "\(vm.stopTimeoutSeconds)", "--record", UnitSpec.vmmDirectory(of: runDirectory) + "/" + UnitSpec.stopRecordName]
                // A launcher unit runs as root (exec-vm drops privileges itself): its stop command becomes the VMM's
                // user first, so root never talks to a socket or writes in a directory the VMM owns.
                + launcherUser
        }
        let netnsPath = environment.networkNamespace.map { "/run/netns/\($0)" }
        // systemd's own wait for the stop command, and then for the VMM after SIGTERM: the guest's time and a margin.
        let stopTimeout = UnitProperty.uint64(name: "TimeoutStopUSec", value: UInt64(vm.stopTimeoutSeconds + 10) * 1_000_000)
        var properties = unitPolicy + [stopTimeout]
        // Where journald runs, the VMM's output (and the stop command's) goes to the journal, every line with the
        // VM's name as a field (`journalctl MOORING_VM=web`); elsewhere to `vmm.log` in its run directory.
        if environment.journal {
            properties += [.string(name: "StandardOutput", value: "journal"), .string(name: "StandardError", value: "journal"),
                           .byteStrings(name: "LogExtraFields", values: ["MOORING_VM=\(vm.name)"])]
        }
        properties += VMMSandbox.properties(vm, environment: environment, runDirectory: runDirectory, launcher: launcher,
                                            programs: [executable, environment.mooringExecutable])
        var spec = UnitSpec(name: SystemdNames.unitName(forMicroVM: vm.name), microVM: vm.name,
                            description: "mooring MicroVM \(vm.name) (\(vm.vmm.rawValue))", argv: argv,
                            stopCommand: stopCommand, stopTimeoutSeconds: vm.stopTimeoutSeconds, controlSocket: socket, environment: [],
                            networkNamespacePath: netnsPath, runDirectory: runDirectory,
                            runDirectoryGroup: environment.identity?.gid ?? 0,
                            logFile: environment.journal ? nil : runDirectory + "/vmm.log",
                            files: files, properties: properties, specHash: "")
        spec.seedDisk = seed
        if vm.vmm == .qemuMicrovm, let socket { spec.readiness = .qmpRunning(socket: socket) }
        (spec.specHash, spec.policyHash) = hashes(spec)
        spec.environment = ["MOORING_SPEC_HASH=\(spec.specHash)", "MOORING_POLICY_HASH=\(spec.policyHash)"]
        return spec
    }

    /// How systemd runs every VMM. `Type=exec`: the start job is done only once the VMM binary was executed.
    /// A failed VMM restarts after a second; `KillMode=mixed` sends SIGTERM to the VMM only, then SIGKILL to
    /// what is left. A failed unit stays loaded until the next start resets it (`CollectMode=inactive`), so
    /// plan and status can say it failed and why; a stopped one is collected. A VMM that keeps dying is not
    /// restarted forever: after 5 starts within a minute the unit stays failed (`Result=start-limit-hit`).
    static let unitPolicy: [UnitProperty] = [
        .string(name: "Type", value: "exec"),
        .string(name: "Restart", value: "on-failure"),
        .uint64(name: "RestartUSec", value: 1_000_000),
        .string(name: "KillMode", value: "mixed"),
        .string(name: "CollectMode", value: "inactive"),
        .string(name: "Slice", value: "mooring.slice"),
        .uint64(name: "StartLimitIntervalUSec", value: 60_000_000),
        .uint32(name: "StartLimitBurst", value: 5),
    ]

    /// What the guest can observe, and the host-side policy (UnitSpec.specHash, .policyHash). A launcher unit's
    /// argv is `mooring exec-vm ... -- <the VMM's argv>`: the part before `--` names mooring's path and the
    /// VMM's user (policy); the VMM's own argv is the guest's.
    static func hashes(_ spec: UnitSpec) -> (guest: String, policy: String) {
        let separator = spec.argv.firstIndex(of: "--").map { spec.argv.index(after: $0) }
        let launcher = separator.map { Array(spec.argv[..<$0]) } ?? []
        let vmm = separator.map { Array(spec.argv[$0...]) } ?? spec.argv
        var guest = vmm.joined(separator: "\u{0}") + "\u{1}" + (spec.networkNamespacePath ?? "")
        for file in spec.files + (spec.seedDisk?.files ?? []) { guest += "\u{1}\(file.path)\u{0}\(file.contents)" }
        var policy = launcher.joined(separator: "\u{0}") + "\u{1}" + (spec.stopCommand ?? []).joined(separator: "\u{0}")
        policy += "\u{1}\(spec.runDirectoryGroup)\u{1}" + spec.properties.map(\.description).joined(separator: "\u{0}")
        return (StableHash.hex(guest), StableHash.hex(policy))
    }

    static func qemu(_ vm: DesiredMicroVM, environment: VMMEnvironment, executable: String, runDirectory: String, seed: SeedDisk?,
                     fd: (DesiredInterface) -> Int?) -> [String] {
        var argv = [executable, "-name", vm.name, "-M", "microvm", "-accel", vm.accelerator.rawValue,
                    "-cpu", vm.accelerator == .kvm ? "host" : "max", "-m", "\(vm.memoryMb)", "-smp", "\(vm.vcpu)",
                    "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
                    "-serial", "file:\(UnitSpec.vmmDirectory(of: runDirectory))/\(UnitSpec.consoleName)",
                    // The stop command's way in: system_powerdown presses the ACPI power button (microvm has ACPI).
                    "-qmp", "unix:\(controlSocket(vm, runDirectory: runDirectory)!),server=on,wait=off"]
        if let kernel = vm.kernel { argv += ["-kernel", kernel] }
        if let initrd = vm.initrd { argv += ["-initrd", initrd] }
        argv += ["-append", kernelCommandLine(vm, in: environment)]
        let vhost = environment.vhostNet ? "on" : "off"
        for (index, interface) in vm.interfaces.enumerated() {
            // A tap opened by name gets one queue per vCPU (mooring made it multi_queue); a macvtap comes as one fd.
            let queues = fd(interface) == nil ? tapQueues(vm) : 1
            let backend = fd(interface).map { "tap,id=net\(index),fd=\($0),vhost=\(vhost)" }
                ?? "tap,id=net\(index),ifname=\(interface.hostDeviceName),script=no,downscript=no,vhost=\(vhost)"
                    + (queues > 1 ? ",queues=\(queues)" : "")
            argv += ["-netdev", backend, "-device", "virtio-net-device,netdev=net\(index),mac=\(environment.guestMAC(interface))"
                        + (queues > 1 ? ",mq=on" : "")]
        }
        for volume in vm.volumes {
            // QEMU option values escape a comma by doubling it; a path is the operator's, but must stay one value.
            let file = volume.path.replacingOccurrences(of: ",", with: ",,")
            // A layer over an image's disk is qcow2, its backing file raw (recorded in the layer: `-F raw`).
            let format = volume.overlayOf == nil ? "raw" : "qcow2"
            argv += ["-drive", "id=\(volume.id),file=\(file),format=\(format),if=none\(volume.readOnly ? ",readonly=on" : "")",
                     "-device", "virtio-blk-device,drive=\(volume.id)"]
        }
        // After the root volume, so a guest that names disks in order still finds its root first.
        if let seed {
            argv += ["-drive", "id=cidata,file=\(seed.path.replacingOccurrences(of: ",", with: ",,")),format=raw,if=none,readonly=on",
                     "-device", "virtio-blk-device,drive=cidata"]
        }
        return argv
    }

    static func cloudHypervisor(_ vm: DesiredMicroVM, environment: VMMEnvironment, executable: String, runDirectory: String,
                                seed: SeedDisk?, fd: (DesiredInterface) -> Int?) -> [String] {
        var argv = [executable, "--api-socket", controlSocket(vm, runDirectory: runDirectory)!]
        if let kernel = vm.kernel { argv += ["--kernel", kernel] }
        if let initrd = vm.initrd { argv += ["--initramfs", initrd] }
        argv += ["--cmdline", kernelCommandLine(vm, in: environment), "--cpus", "boot=\(vm.vcpu)", "--memory", "size=\(vm.memoryMb)M"]
        argv.append("--net")
        for interface in vm.interfaces {
            let mac = environment.guestMAC(interface)
            // cloud-hypervisor counts queues one way each: a receive and a transmit queue per vCPU.
            let queues = tapQueues(vm) > 1 ? ",num_queues=\(2 * tapQueues(vm))" : ""
            argv.append(fd(interface).map { "fd=\($0),mac=\(mac)" } ?? "tap=\(interface.hostDeviceName),mac=\(mac)\(queues)")
        }
        var disks = vm.volumes.map { "path=\($0.path)\($0.readOnly ? ",readonly=on" : "")" }
        if let seed { disks.append("path=\(seed.path),readonly=on") }
        if !disks.isEmpty { argv += ["--disk"] + disks }
        argv += ["--serial", "file=\(UnitSpec.vmmDirectory(of: runDirectory))/\(UnitSpec.consoleName)", "--console", "off"]
        return argv
    }

    /// Firecracker's `--config-file` JSON (taps only: firecracker cannot use macvtap devices).
    static func firecrackerConfig(_ vm: DesiredMicroVM, environment: VMMEnvironment, seed: SeedDisk? = nil) -> String {
        var boot: [(key: String, value: JSONValue)] = [("kernel_image_path", .string(vm.kernel ?? "")),
                                                         ("boot_args", .string(kernelCommandLine(vm, in: environment)))]
        if let initrd = vm.initrd { boot.append(("initrd_path", .string(initrd))) }
        var drives: [JSONValue] = vm.volumes.map { volume in
            ["drive_id": .string(volume.id), "path_on_host": .string(volume.path), "is_root_device": .bool(volume == vm.rootVolume),
             "is_read_only": .bool(volume.readOnly)]
        }
        if let seed {
            drives.append(["drive_id": "cidata", "path_on_host": .string(seed.path), "is_root_device": false, "is_read_only": true])
        }
        let config: JSONValue = [
            "boot-source": .object(boot),
            "machine-config": ["vcpu_count": JSONValue(vm.vcpu), "mem_size_mib": JSONValue(vm.memoryMb), "smt": false],
            "network-interfaces": .array(vm.interfaces.map {
                ["iface_id": .string($0.guestDeviceName), "guest_mac": .string($0.mac.description),
                 "host_dev_name": .string($0.hostDeviceName)]
            }),
            "drives": .array(drives),
        ]
        return config.canonicalText
    }
}
