import MooringModel
import MooringPlan

/// The sandbox every VMM runs in: who it runs as, which devices, files, system calls and address families it
/// may use. A guest that escapes QEMU lands in a process with no capabilities, a read-only file system with
/// its own run directory and disk writable, no view of other VMs' directories or of other processes, and only
/// /dev/kvm, /dev/net/tun and /dev/vhost-net. docs/microvms.md explains each choice and the measured score.
enum VMMSandbox {
    /// Linux capability numbers (linux/capability.h), for `exec-vm`'s bounding set.
    static let launcherCapabilities: [UInt64] = [6 /* CAP_SETGID */, 7 /* CAP_SETUID */, 21 /* CAP_SYS_ADMIN */, 27 /* CAP_MKNOD */]
    static let cloneNewNS: UInt64 = 0x0002_0000

    /// - Parameter launcher: the unit starts with `mooring exec-vm`, which must open macvtap devices as root (a
    ///   private sysfs and a device node) before it drops to the VMM's user: it keeps the four capabilities that
    ///   takes, may make its mount namespace, and runs as root until it switches user itself.
    /// Whether a path is under a directory `PrivateTmp=` replaces.
    static func isUnderTmp(_ path: String) -> Bool { ["/tmp/", "/var/tmp/"].contains(where: path.hasPrefix) }

    /// The files the VM uses, bound into its sandbox wherever they live: the kernel, the initrd and the read-only
    /// disks read-only, the writable disks writable. Under /tmp (PrivateTmp) or a home directory (ProtectHome)
    /// they would otherwise be hidden from the VMM; bound, the VMM sees exactly these there and nothing else.
    static func usedFiles(_ vm: DesiredMicroVM) -> (readOnly: [String], writable: [String]) {
        // A layer's backing file (an image's disk in the store) is opened by the VMM too, read-only.
        let readOnly = [vm.kernel, vm.initrd].compactMap { $0 } + vm.volumes.filter(\.readOnly).map(\.path) + vm.volumes.compactMap(\.overlayOf)
        return (Array(Set(readOnly)).sorted(), Array(Set(vm.volumes.filter { !$0.readOnly }.map(\.path))).sorted())
    }

    /// The directories the unit's sandbox replaces with its own (a private /tmp, an empty home): the
    /// directories above a file bound there are the sandbox's (made by systemd, 0755), not the host's, so the
    /// host's permission bits on them do not apply.
    static func replacedTrees(_ properties: [UnitProperty]) -> [String] {
        var trees: [String] = []
        if properties.contains(.bool(name: "PrivateTmp", value: true)) { trees += ["/tmp/", "/var/tmp/"] }
        if properties.contains(.string(name: "ProtectHome", value: "tmpfs")) { trees += ["/home/", "/root/", "/run/user/"] }
        return trees
    }

    /// - Parameter programs: what the unit executes (the VMM, mooring for exec-vm and stop-vm): one under /tmp
    ///   (a build tree there) could not be executed with a private /tmp, so the unit then keeps the host's.
    static func properties(_ vm: DesiredMicroVM, environment: VMMEnvironment, runDirectory: String,
                           launcher: Bool, programs: [String]) -> [UnitProperty] {
        var properties: [UnitProperty] = []
        if let identity = environment.identity, let user = identity.user, !launcher {
            properties += [.string(name: "User", value: user), .string(name: "Group", value: user)]
            if !identity.supplementaryGroups.isEmpty {
                properties.append(.strings(name: "SupplementaryGroups", values: identity.supplementaryGroups))
            }
        }
        let capabilities = launcher ? launcherCapabilities.reduce(UInt64(0)) { $0 | (1 << $1) } : 0
        properties += [
            .bool(name: "NoNewPrivileges", value: true),
            .uint64(name: "CapabilityBoundingSet", value: capabilities),
            .uint64(name: "AmbientCapabilities", value: 0),
            .string(name: "ProtectSystem", value: "strict"),
            .bool(name: "PrivateTmp", value: !programs.contains(where: isUnderTmp)),
            .bool(name: "PrivateMounts", value: true),
            .bool(name: "ProtectKernelModules", value: true),
            .bool(name: "ProtectControlGroups", value: true),
            .bool(name: "ProtectClock", value: true),
            .bool(name: "ProtectHostname", value: true),
            .string(name: "ProtectProc", value: "invisible"),
            .string(name: "ProcSubset", value: "pid"),
            .uint64(name: "RestrictNamespaces", value: launcher ? cloneNewNS : 0),
            .bool(name: "RestrictRealtime", value: true),
            .bool(name: "RestrictSUIDSGID", value: true),
            .bool(name: "LockPersonality", value: true),
            .bool(name: "RemoveIPC", value: true),
            .string(name: "KeyringMode", value: "private"),
            .uint32(name: "UMask", value: 0o077),
            // The QMP or API socket is the only socket a VMM needs.
            .list(name: "RestrictAddressFamilies", allow: true, values: ["AF_UNIX"]),
            .strings(name: "SystemCallArchitectures", values: ["native"]),
            // `seccomp`: QEMU asks which filter actions the kernel offers as it starts (it can only narrow itself).
            .list(name: "SystemCallFilter", allow: true, values: ["@system-service", "seccomp"] + (launcher ? ["@mount", "@privileged"] : [])),
            .string(name: "DevicePolicy", value: "closed"),
            .pairs(name: "DeviceAllow", values: devices(vm, environment: environment)),
            // Other VMs' run directories (consoles, sockets) are hidden: an empty directory over them, this VM's own
            // bound back in.
            .pairs(name: "TemporaryFileSystem", values: [StringPair(environment.runRoot + "/vms", "ro")]),
            .binds(name: "BindPaths", paths: [runDirectory] + usedFiles(vm).writable),
        ]
        if !usedFiles(vm).readOnly.isEmpty {
            properties.append(.binds(name: "BindReadOnlyPaths", paths: usedFiles(vm).readOnly))
        }
        if !launcher {
            // Not @resources: QEMU sets its memory policy (set_mempolicy), and without capabilities those calls
            // can only lower the VMM's own priority or limits.
            properties.append(.list(name: "SystemCallFilter", allow: false, values: ["@privileged"]))
        }
        // A user manager applies these three only through a user namespace of its own, which fails the start
        // (226/NAMESPACE) where the manager runs as root outside a login session (the test bed); the system
        // manager applies them directly.
        if environment.identity?.user != nil {
            // `tmpfs`, not `yes`: an empty home, into which the VM's own files can be bound (usedFiles).
            properties += [.string(name: "ProtectHome", value: "tmpfs"), .bool(name: "ProtectKernelTunables", value: true),
                           .bool(name: "ProtectKernelLogs", value: true)]
        }
        // A JIT needs writable and executable memory: TCG has one, KVM does not.
        if vm.accelerator == .kvm { properties.append(.bool(name: "MemoryDenyWriteExecute", value: true)) }
        let writable = vm.volumes.filter { !$0.readOnly }.map(\.path)
        if !writable.isEmpty {
            properties.append(.strings(name: "ReadWritePaths", values: writable))
        }
        return properties
    }

    /// Only the devices the VMM opens.
    static func devices(_ vm: DesiredMicroVM, environment: VMMEnvironment) -> [StringPair] {
        var devices: [StringPair] = []
        if vm.accelerator == .kvm { devices.append(StringPair("/dev/kvm", "rw")) }
        if vm.interfaces.contains(where: { $0.type == .tap }) {
            devices.append(StringPair("/dev/net/tun", "rw"))
            if environment.vhostNet { devices.append(StringPair("/dev/vhost-net", "rw")) }
        }
        if vm.interfaces.contains(where: { $0.type == .macvtap }) {
            devices.append(StringPair("char-macvtap", "rw"))
            if environment.vhostNet { devices.append(StringPair("/dev/vhost-net", "rw")) }
        }
        return devices
    }
}
