import MooringModel
import MooringPlan

/// Where the plan applies, beyond the desired and observed state.
public struct PlanTarget: Sendable, Codable, Equatable {
    public var networkNamespace: String?
    public var runRoot: String
    /// The mooring executable units run as `mooring exec-vm`; nil means the running one.
    public var mooringExecutable: String?
    /// Another process holds the lock and is applying right now: the report shows the host part-way.
    public var applyInProgressBy: Int32?
    /// `mooring restart`: these running MicroVMs are restarted (through the stop ladder), whatever else.
    public var restart: MicroVMSelection = .none

    public init(networkNamespace: String? = nil, runRoot: String = "/run/mooring", mooringExecutable: String? = nil,
                applyInProgressBy: Int32? = nil, restart: MicroVMSelection = .none) {
        self.networkNamespace = networkNamespace
        self.runRoot = runRoot
        self.mooringExecutable = mooringExecutable
        self.applyInProgressBy = applyInProgressBy
        self.restart = restart
    }
}

/// Diffs MicroVM units against systemd's: start what is missing, restart what changed or failed, stop the rest.
struct UnitPlanner {
    let desired: DesiredState
    let observed: ObservedState
    let target: PlanTarget
    /// MicroVMs whose devices this plan recreates: their VMM holds the old ones.
    let recreatedDevices: Set<String>
    /// Who each VMM runs as (`VMIdentities`).
    var identities = VMMIdentityMap(shared: nil)

    func plan() -> (changes: [Change], conflicts: [Conflict], warnings: [String]) {
        var changes: [Change] = []
        var conflicts: [Conflict] = []
        var warnings: [String] = []
        let environment = VMMEnvironment(executables: observed.capabilities.executables,
                                         mooringExecutable: target.mooringExecutable ?? observed.capabilities.mooringExecutable,
                                         runRoot: target.runRoot, networkNamespace: target.networkNamespace,
                                         tscKHz: observed.capabilities.tscKHz, parentMACs: passthruParentMACs(),
                                         identity: observed.capabilities.vmmIdentity, vhostNet: observed.capabilities.vhostNet,
                                         journal: observed.capabilities.journal)
        let units = Dictionary(observed.units.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var wanted: Set<String> = []
        if desired.needsUnits, identities.own.isEmpty, observed.capabilities.vmmIdentity?.user != nil, !observed.capabilities.userDatabase {
            warnings.append("every VMM runs as the one user \(SystemdNames.vmmUser): systemd does not read its runtime user database here, "
                            + "so MicroVMs cannot have a user each (apt install libnss-systemd, which adds `systemd` to /etc/nsswitch.conf)")
        }
        if desired.needsUnits, VMMSandbox.isUnderTmp(environment.mooringExecutable) {
            warnings.append("mooring runs from \(environment.mooringExecutable): MicroVM units run it (stop-vm, exec-vm), so they "
                            + "keep the host's /tmp (PrivateTmp=no); install mooring (the package, or make install) for the full sandbox")
        }

        let imagePlanner = ImagePlanner(desired: desired, observed: observed)
        let images = imagePlanner.plan()
        changes += images.changes
        conflicts += images.conflicts
        warnings += images.warnings
        var layerChanges: [Change] = []
        var wantedLayers: Set<String> = []
        for declared in desired.microVMs {
            let pinned = imagePlanner.pin(declared, images)
            let vm = pinned.vm
            wantedLayers.formUnion(pinned.layers.map(\.path))
            var vmEnvironment = environment
            if let own = identities.own[vm.name] { vmEnvironment.identity = own }
            guard var spec = VMMCommand.unit(for: vm, in: vmEnvironment) else { continue }
            if let own = identities.own[vm.name] {
                // Its own user, and its writable disks handed to it (they are its alone: checkFiles).
                spec.identity = VMIdentities.record(own, microVM: vm.name)
                spec.ownedDisks = vm.volumes.filter { !$0.readOnly }.map(\.path)
            }
            wanted.insert(spec.name)
            if units[spec.name] == nil, let elsewhere = observed.unitsOfOtherTargets.first(where: { $0.name == spec.name }) {
                // systemd would refuse the start half-way through the apply: said now, with nothing changed for it.
                let namespace = elsewhere.networkNamespacePath.map { "netns \($0.split(separator: "/").last ?? "")" } ?? "the host's own network namespace"
                conflicts.append(Conflict(resource: .unit(spec.name), group: ChangeGroup(vm.origin),
                                          message: "\(spec.name) already runs for another target (\(namespace)): a MicroVM's unit is one per host",
                                          fix: "rename the MicroVM (its name must be unique on the host), or remove it from the other target's manifests"))
                continue
            }
            if let problem = observed.unitProblem {
                conflicts.append(Conflict(resource: .unit(spec.name), group: ChangeGroup(vm.origin), message: "cannot manage \(vm.origin.subject)'s VMM: \(problem)",
                                          fix: "start systemd (or pass --user for a user manager), or set vmm: none"))
                continue
            }
            if vm.accelerator == .kvm, let problem = observed.capabilities.kvmProblem {
                warnings.append("\(vm.origin.subject) asks for KVM, but \(problem); set Host spec.accelerator: tcg to emulate")
            }
            if VMMCommand.needsTSCFrequency(vm), environment.tscKHz == nil {
                warnings.append("\(vm.origin.subject) is emulated (tcg) but the host's TSC frequency is unknown: its kernel may hang "
                                + "calibrating the TSC when several guests boot at once; add tsc_early_khz=KHZ to spec.kernelCmdline")
            }
            guard !declared.imageReferences.contains(where: images.blocked.contains),
                  checkFiles(declared, unit: spec, arriving: pinned.arriving, layered: pinned.layered, &conflicts) else { continue }
            layerChanges += imagePlanner.layerChanges(pinned)
            let group = ChangeGroup(vm.origin)
            func change(_ action: Change.Verb, _ summary: String, _ reason: ChangeReason, _ operation: Action,
                        disruptive: Bool = false, before: String? = nil, details: [String] = []) -> Change {
                let state = FieldChange("state", before: JSONValue(before), after: "active/running")
                let hash = FieldChange("specHash", before: JSONValue(units[spec.name]?.specHash), after: .string(spec.specHash))
                return Change(resource: .unit(spec.name), group: group, action: action, summary: summary, reason: reason,
                       fields: [state, hash], disruptive: disruptive, details: details,
                       operation: operation, phase: Phase.startUnits)
            }
            guard let unit = units[spec.name] else {
                changes.append(change(.start, "start unit \(spec.name) (\(vm.vmm.rawValue), \(vm.vcpu) vcpu, \(vm.memoryMb) MiB)",
                                      .declared(group), .startUnit(spec)))
                continue
            }
            let state = "\(unit.activeState)/\(unit.subState)"
            if unit.activeState == "failed" || unit.subState == "auto-restart" {
                // Say why it failed last time, every time it is started again: a VMM that keeps failing shows
                // its error in every plan instead of being restarted blindly.
                let reason = ChangeReason.vmmFailed(failure: unit.failure, lastOutput: unit.lastOutput)
                let details = (unit.failure.map { ["last run: \($0)"] } ?? [])
                    + (unit.lastOutput.isEmpty ? [] : ["its last output:"] + unit.lastOutput.map { "  " + $0 })
                changes.append(change(.restart, "restart unit \(spec.name) (it is \(state))", reason,
                                      .restartUnit(spec), before: state, details: details))
            } else if !unit.isRunning {
                changes.append(change(.start, "start unit \(spec.name) (it is \(state))", .notRunning,
                                      .startUnit(spec), before: state))
            } else if unit.specHash != spec.specHash {
                changes.append(change(.restart, "restart unit \(spec.name): its spec changed", .guestVisibleSpecChanged,
                                      .restartUnit(spec), disruptive: true, before: state))
            } else if recreatedDevices.contains(vm.name) {
                changes.append(change(.restart, "restart unit \(spec.name): its network devices are recreated",
                                      .devicesRecreated, .restartUnit(spec), disruptive: true, before: state))
            } else if target.restart.contains(vm.name) {
                changes.append(change(.restart, "restart unit \(spec.name) (mooring restart)", .restartRequested,
                                      .restartUnit(spec), disruptive: true, before: state))
            } else if unit.policyHash != spec.policyHash {
                // Host-side policy only (an upgraded mooring's sandbox, a moved binary): the guest sees nothing
                // of it, so it restarts nothing; it applies at the VM's next restart.
                warnings.append("\(vm.origin.subject) runs with an older host-side policy (its unit's sandbox or stop command "
                                + "predates this mooring); it applies when the VM restarts: `mooring restart \(vm.name)` to do it now")
            }
        }
        for unit in observed.units where !wanted.contains(unit.name) {
            if SystemdNames.microVM(forUnit: unit.name) == nil {
                warnings.append("unit \(unit.name) carries mooring's prefix but names no valid MicroVM: it is stopped, "
                                + "and no file is touched for it")
            }
            // A running VM's guest is asked to power off first (the unit's ExecStop); either way it goes down.
            let summary = unit.isRunning ? "stop unit \(unit.name) (no longer in manifests): power button, then terminate"
                : "stop unit \(unit.name) (no longer in manifests)"
            changes.append(Change(resource: .unit(unit.name), group: .stale, action: .stop,
                                  summary: summary, reason: .noLongerInManifests,
                                  fields: [FieldChange("state", before: .string("\(unit.activeState)/\(unit.subState)"), after: "stopped")],
                                  disruptive: unit.isRunning,
                                  operation: .stopUnit(name: unit.name, runDirectory: SystemdNames.microVM(forUnit: unit.name)
                                      .map { "\(target.runRoot)/vms/\($0)" }),
                                  phase: Phase.stopUnits))
        }
        // Layers after the pulls they lie on (one phase, planner order), and the store's collection last.
        let pulls = changes.prefix { if case .fetchImage = $0.operation { true } else { false } }.count
        changes.insert(contentsOf: layerChanges + imagePlanner.collect(wantedLayers: wantedLayers, images: images), at: pulls)
        return (changes, conflicts, warnings)
    }

    /// The MACs of the host interfaces passthru macvtaps take, as the host has them now.
    private func passthruParentMACs() -> [String: MACAddress] {
        let parents = Set(desired.microVMs.flatMap(\.interfaces).filter { $0.type == .macvtap && $0.macvtapMode == .passthru }
            .compactMap(\.parentInterface))
        var macs: [String: MACAddress] = [:]
        for link in observed.links where parents.contains(link.name) { macs[link.name] = link.mac }
        return macs
    }

    /// The kernel, initrd, disk and VMM program must exist before a unit can start, and the VMM's user must be
    /// able to reach them from inside its sandbox, and to open its devices.
    /// - Parameter arriving: files of images this plan pulls: not there yet, checked by the pull.
    /// - Parameter layered: image disks the VM writes through a layer of its own: never shared, never handed out.
    private func checkFiles(_ vm: DesiredMicroVM, unit spec: UnitSpec, arriving: Set<String> = [], layered: Set<String> = [],
                            _ conflicts: inout [Conflict]) -> Bool {
        var ok = true
        let resource = ResourceID.unit(SystemdNames.unitName(forMicroVM: vm.name))
        if let program = vm.vmm.program, observed.capabilities.executables[program] == nil {
            let package = vm.vmm == .qemuMicrovm ? " (apt install qemu-system-x86)" : ""
            conflicts.append(Conflict(resource: resource, group: ChangeGroup(vm.origin), message: "\(program) is not installed (not found on PATH)",
                                      fix: "install it\(package), or set vmm: none"))
            ok = false
        }
        if let problem = observed.capabilities.vmmIdentityProblem {
            conflicts.append(Conflict(resource: resource, group: ChangeGroup(vm.origin), message: "\(vm.origin.subject)'s VMM cannot run unprivileged: \(problem)",
                                      fix: "install the mooring package, or create the user: systemd-sysusers units/sysusers.d/mooring.conf"))
            ok = false
        }
        for device in DesiredState.devices(of: vm) {
            // Without udev (a container, a minimal host) a device can be root's alone: the unprivileged VMM
            // would fail to open it at start.
            guard let problem = observed.capabilities.vmmFileProblems[device] else { continue }
            let fix = device == "/dev/net/tun" ? "chmod 0666 /dev/net/tun (udev's default mode for it)"
                : "give the \(SystemdNames.vmmDeviceGroup) group read and write on \(device) (udev's default), or set Host spec.accelerator: tcg"
            conflicts.append(Conflict(resource: resource, group: ChangeGroup(vm.origin),
                                      message: "\(vm.origin.subject)'s VMM cannot open \(device): \(problem)", fix: fix))
            ok = false
        }
        var files = [(vm.kernel, "spec.kernel"), (vm.initrd, "spec.initrd"), (vm.rootVolume?.path, "spec.rootVolume")]
        files += vm.additionalVolumes.map { ($0.path, "spec.volumes \($0.id)") }
        let writable = Set(vm.volumes.filter { !$0.readOnly }.map(\.path))
        let replaced = VMMSandbox.replacedTrees(spec.properties)
        for case let (path?, field) in files where !arriving.contains(path) {
            if !observed.capabilities.existingFiles.contains(path) {
                // A file of an image (pulled, or unpacked by hand) that the image does not have.
                let root = desired.host.imageRoot.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
                let image = root.flatMap { root in path.hasPrefix(root) ? imageReference(of: vm, under: root, for: path) : nil }
                let fix = image.map { "the image \($0) has no such file: fix the filename (its files are under \(root!)\($0)/)" }
                    ?? "put the file there or fix the path"
                conflicts.append(Conflict(resource: resource, group: ChangeGroup(vm.origin), message: "\(vm.origin.subject) \(field) \(path) does not exist",
                                          fix: fix))
                ok = false
            } else if !layered.contains(path), !spec.ownedDisks.contains(path), let problem = observed.capabilities.vmmFileProblems[path],
                      !(problem.blockedDirectory.map { blocked in replaced.contains { (blocked + "/").hasPrefix($0) } } ?? false) {
                // (A disk handed to the VM's own user at start needs no permission of the shared user's; a
                // directory the sandbox replaces with its own, the file bound into it, is not in the way.)
                // The VMM runs as its own user: a file only root may read would fail the start, so say it now.
                let user = observed.capabilities.vmmIdentity?.user ?? "the VMM's user"
                let fix = problem.blockedDirectory.map { "let \(user) enter \($0) (chmod o+x \($0)), or put the file in a directory it may enter" }
                    ?? "give \(user) access (e.g. chgrp \(user) \(path); chmod g+r\(writable.contains(path) ? "w" : "") \(path))"
                conflicts.append(Conflict(resource: resource, group: ChangeGroup(vm.origin),
                                          message: "\(vm.origin.subject) \(field) \(path): \(problem)", fix: fix))
                ok = false
            }
        }
        for volume in vm.volumes where !volume.readOnly && !layered.contains(volume.path) {
            if let problem = writableDiskProblem(volume, of: vm) {
                conflicts.append(Conflict(resource: resource, group: ChangeGroup(vm.origin),
                                          message: "\(vm.origin.subject) volume \(volume.id) \(volume.path): \(problem.message)", fix: problem.fix))
                ok = false
            }
        }
        return ok
    }

    /// The image reference a missing file of `vm` belongs to: the longest declared one whose directory holds it.
    private func imageReference(of vm: DesiredMicroVM, under root: String, for path: String) -> String? {
        vm.imageReferences.filter { path.hasPrefix(root + $0 + "/") }.max { $0.count < $1.count }
    }

    /// A writable disk must be this VM's alone: no other VM names the same file (by its path, or through a
    /// symlink: two VMMs writing one file system corrupt it, and one guest could read or change the other's
    /// data), an image's disk stays inside the image root, and it belongs to root or the VMM's user (another
    /// user could swap or read it).
    private func writableDiskProblem(_ volume: DesiredVolume, of vm: DesiredMicroVM) -> (message: String, fix: String)? {
        let facts = observed.capabilities.fileFacts
        let fact = facts[volume.path]
        for other in desired.microVMs where other.name != vm.name {
            for theirs in other.volumes where theirs.path == volume.path || (fact != nil && facts[theirs.path]?.resolved == fact?.resolved) {
                let how = theirs.path == volume.path ? "" : " (\(theirs.path) leads to the same file, \(fact!.resolved))"
                return ("MicroVM \(other.name) uses the same disk\(how); two VMs writing one disk corrupt it, and each could read the other's data",
                        "give each MicroVM its own disk (a copy), or mark it readOnly: true in both")
            }
        }
        guard let fact else { return nil }
        if let root = desired.host.imageRoot, volume.path.hasPrefix(root + "/"), !fact.resolved.hasPrefix(root + "/") {
            return ("it leads outside the image root \(root), to \(fact.resolved)", "replace the link under \(root) with the image's own disk")
        }
        let vmmUID = observed.capabilities.vmmIdentity?.uid
        // Root's, the shared VMM user's, or a VM identity's (handed to a VM at its start; two VMs at once are the
        // conflict above).
        if fact.owner != 0, fact.owner != vmmUID, !VMIdentities.contains(fact.owner) {
            let user = observed.capabilities.vmmIdentity?.user ?? "the VMM's user"
            return ("it belongs to uid \(fact.owner), neither root nor \(user): that user could swap or read the VM's disk",
                    "chown it to root or \(user) (e.g. chown \(user) \(fact.resolved))")
        }
        return nil
    }
}

extension DesiredState {
    /// The host files the manifests name, for the drivers to check.
    public var referencedFiles: Set<String> {
        Set(microVMs.flatMap { vm in [vm.kernel, vm.initrd].compactMap { $0 } + vm.volumes.map(\.path) })
    }

    /// The devices a VMM opens itself: /dev/net/tun for taps, /dev/kvm under KVM.
    static func devices(of vm: DesiredMicroVM) -> [String] {
        guard vm.vmm != .none else { return [] }
        return (vm.interfaces.contains { $0.type == .tap } ? ["/dev/net/tun"] : []) + (vm.accelerator == .kvm ? ["/dev/kvm"] : [])
    }

    /// Every device some VMM opens, for the drivers to check the VMM's user may.
    public var vmmDevices: Set<String> { Set(microVMs.flatMap(DesiredState.devices(of:))) }

    /// The files the VMMs write (disks not marked readOnly); the rest of `referencedFiles` they only read.
    public var writableFiles: Set<String> {
        Set(microVMs.flatMap { vm in vm.volumes.filter { !$0.readOnly }.map(\.path) })
    }

    /// The image root and every reference a MicroVM names, for the drivers to read the store (also with no
    /// reference: what is there may be collected) and ask the registries.
    public var imagesToObserve: (root: String, references: [String])? {
        guard let root = host.imageRoot.map({ $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) else { return nil }
        return (root, Array(Set(microVMs.flatMap(\.imageReferences))).sorted())
    }

    /// Whether any MicroVM needs a VMM unit.
    public var needsUnits: Bool { microVMs.contains { $0.vmm != .none } }
}
