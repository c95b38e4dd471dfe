import MooringModel
import MooringPlan

/// Images by reference: which digest each reference means in this plan, what must be pulled or made for it,
/// and each MicroVM's files pinned to that digest's directory, so the unit names exactly the bytes the plan
/// named (a tag that moves changes the VMM's command line, and the plan says so).
///
/// A reference's digest is the registry's answer now; without one (offline, registry down) the digest the host
/// last pulled, with a warning; without either, a conflict that holds back only the MicroVMs that need it.
struct ImagePlanner {
    let desired: DesiredState
    let observed: ObservedState

    /// What a MicroVM's files become once its images are pinned.
    struct Pinned {
        var vm: DesiredMicroVM
        /// Host paths (as the manifests resolve them, under `<root>/<reference>/`) whose image is pulled or
        /// remade by this plan: they cannot be checked yet.
        var arriving: Set<String> = []
        /// Writable image disks that become the MicroVM's own layer (not shared, not handed out as they are).
        var layered: Set<String> = []
        var layers: [VMDiskLayer] = []
    }

    struct Result {
        var changes: [Change] = []
        var conflicts: [Conflict] = []
        var warnings: [String] = []
        /// The digest each reference stands for in this plan; absent: unpacked by hand, or blocked.
        var digests: [String: String] = [:]
        /// References that cannot be used (a conflict says why).
        var blocked: Set<String> = []
        /// References pulled (or their disk made) by this plan.
        var fetched: Set<String> = []
    }

    var root: String? { desired.host.imageRoot.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } }

    func plan() -> Result {
        var result = Result()
        guard let root, let store = observed.imageStore else { return result }
        let users = Dictionary(grouping: desired.microVMs.flatMap { vm in vm.imageReferences.map { ($0, vm) } }, by: \.0)
            .mapValues { $0.map(\.1) }
        for reference in users.keys.sorted() {
            let vms = users[reference]!
            let group = ChangeGroup(vms[0].origin)
            let image = store.images[reference] ?? ObservedImage(reference: reference, local: .absent)
            func block(_ message: String, fix: String) {
                result.blocked.insert(reference)
                for vm in vms {
                    result.conflicts.append(Conflict(resource: .unit(SystemdNames.unitName(forMicroVM: vm.name)), group: ChangeGroup(vm.origin),
                                                     message: "\(vm.origin.subject): image \(reference): \(message)", fix: fix))
                }
            }
            var localDigest: String?
            switch image.local {
            case .unpackedByHand: continue
            case let .foreign(what):
                block("\(root)/\(reference) is \(what), neither a directory nor mooring's link into its store",
                      fix: "remove it, or unpack the image there as a directory")
                continue
            case let .pulled(digest): localDigest = digest
            case .absent: break
            }
            let wanted: String
            if let pinned = ImageReference(reference).pinnedDigest {
                wanted = pinned
            } else if let remote = image.remoteDigest {
                wanted = remote
            } else if let localDigest {
                result.warnings.append("image \(reference): the registry did not answer (\(image.remoteProblem ?? "no answer")): "
                                       + "using the copy pulled before, \(localDigest)")
                wanted = localDigest
            } else {
                block("cannot resolve it (\(image.remoteProblem ?? "no answer")) and the host has no copy",
                      fix: "check the name and tag, the network, and the registry's credentials (containers' auth.json or docker's config.json), "
                      + "or unpack it by hand under \(root)/\(reference)/")
                continue
            }
            result.digests[reference] = wanted
            let needsDisk = vms.contains { vm in vm.volumes.contains { $0.path == "\(root)/\(reference)/\(DesiredVolume.imageDiskName)" } }
            let cached = store.cached[wanted]
            guard cached == nil || (needsDisk && cached == false) || localDigest != wanted else { continue }
            if cached == nil, let problem = store.toolProblem {
                result.digests[reference] = nil
                block("it must be pulled, but \(problem)", fix: "apt install skopeo umoci")
                continue
            }
            result.fetched.insert(reference)
            let fetch = ImageFetch(reference: reference, digest: wanted, root: root, cached: cached != nil,
                                   makeDisk: needsDisk && cached != true, plainHTTP: ImageReference(reference).isLoopbackRegistry)
            let short = Self.short(wanted)
            let summary: String
            let reason: ChangeReason
            if let localDigest, localDigest != wanted {
                summary = "image \(reference): pull \(short) (the tag moved from \(Self.short(localDigest)))"
                reason = .imageMoved(from: localDigest, to: wanted)
            } else if cached == nil {
                summary = "pull image \(reference) (\(short))"
                reason = .declared(group)
            } else {
                summary = "image \(reference) (\(short)): " + (fetch.makeDisk ? "make its disk from its file system" : "link it to its cached digest")
                reason = .declared(group)
            }
            result.changes.append(Change(resource: .image(reference), group: group, action: localDigest == nil ? .create : .update,
                                         summary: summary, reason: reason,
                                         fields: [FieldChange("digest", before: JSONValue(localDigest), after: .string(wanted))],
                                         operation: .fetchImage(fetch), phase: .images))
        }
        return result
    }

    /// A MicroVM's files under `<root>/<reference>/` point into the pinned digest's directory; a writable disk
    /// of an image becomes the VM's own layer over it.
    func pin(_ vm: DesiredMicroVM, _ images: Result) -> Pinned {
        var pinned = Pinned(vm: vm)
        guard let root else { return pinned }
        func digestPath(_ path: String) -> (path: String, digest: String)? {
            let reference = vm.imageReferences.filter { path.hasPrefix("\(root)/\($0)/") }.max { $0.count < $1.count }
            guard let reference, let digest = images.digests[reference] else { return nil }
            if images.fetched.contains(reference) { pinned.arriving.insert(path) }
            return (ImageStore.directory(root: root, digest: digest) + path.dropFirst("\(root)/\(reference)".count), digest)
        }
        if let kernel = vm.kernel, let pin = digestPath(kernel) { pinned.vm.kernel = pin.path }
        if let initrd = vm.initrd, let pin = digestPath(initrd) { pinned.vm.initrd = pin.path }
        func pinVolume(_ volume: DesiredVolume) -> DesiredVolume {
            guard let pin = digestPath(volume.path) else { return volume }
            var volume = volume
            guard !volume.readOnly else { volume.path = pin.path; return volume }
            // Written to: a layer of the VM's own over the image's disk, named by the digest it lies on (a
            // moved tag is a new layer; the old one is collected).
            pinned.layered.insert(volume.path)
            let hex = pin.digest.dropFirst("sha256:".count)
            // A VMM that reads no qcow2 layer gets a copy (a reflink where the file system has them).
            let copy = !vm.vmm.readsQcow2Layers
            let layer = VMDiskLayer(path: "\(root)/\(ImageStore.vmDisksDirectory)/\(vm.name)/\(volume.id)-\(hex).\(copy ? "img" : "qcow2")",
                                    backing: pin.path, format: copy ? .copy : .qcow2)
            pinned.layers.append(layer)
            volume.path = layer.path
            volume.overlayOf = copy ? nil : layer.backing
            return volume
        }
        pinned.vm.rootVolume = vm.rootVolume.map(pinVolume)
        pinned.vm.additionalVolumes = vm.additionalVolumes.map(pinVolume)
        return pinned
    }

    /// The layers a plan makes before the units start: those the store does not have yet.
    func layerChanges(_ pinned: Pinned) -> [Change] {
        let have = Set(observed.imageStore?.vmDisks ?? [])
        return pinned.layers.filter { !have.contains($0.path) }.map { layer in
            Change(resource: .image(layer.path), group: ChangeGroup(pinned.vm.origin), action: .create,
                   summary: "MicroVM \(pinned.vm.name): create its disk layer \(layer.path) over \(layer.backing)",
                   reason: .ownDiskLayer, fields: [FieldChange("backing", before: .null, after: .string(layer.backing))],
                   operation: .createVMDisk(layer), phase: .images)
        }
    }

    /// What the store holds that nothing wants: digests no reference pins and no kept layer lies on, and
    /// layers of declared MicroVMs that lie on another digest now. Layers of MicroVMs no longer declared are
    /// kept (their data is the guest's; docs/microvms.md says how to remove them), and so are their digests.
    func collect(wantedLayers: Set<String>, images: Result) -> [Change] {
        guard let root, let store = observed.imageStore else { return [] }
        let declared = Set(desired.microVMs.map(\.name))
        var changes: [Change] = []
        var keptLayers: [String] = []
        for layer in store.vmDisks.sorted() {
            let components = layer.dropFirst("\(root)/\(ImageStore.vmDisksDirectory)/".count).split(separator: "/")
            guard components.count == 2, declared.contains(String(components[0])), !wantedLayers.contains(layer) else {
                keptLayers.append(layer)
                continue
            }
            changes.append(Change(resource: .image(layer), group: .stale, action: .delete,
                                  summary: "delete \(layer) (MicroVM \(components[0])'s layer over an image it no longer uses)",
                                  reason: .noLongerInManifests, disruptive: true,
                                  operation: .deleteFromImageStore(root: root, path: layer), phase: .images))
        }
        // Held-by-hand references (a symlink of ours the manifests no longer name) keep nothing: only pins do.
        let pinned = Set(images.digests.values)
        for digest in store.cached.keys.sorted() where !pinned.contains(digest) {
            let hex = String(digest.dropFirst("sha256:".count))
            guard !keptLayers.contains(where: { $0.hasSuffix("-\(hex).qcow2") || $0.hasSuffix("-\(hex).img") }) else { continue }
            // Blocked references still use what they have: nothing is collected while a registry is away.
            guard !store.images.values.contains(where: { images.blocked.contains($0.reference) && $0.local == .pulled(digest: digest) }) else { continue }
            let directory = ImageStore.directory(root: root, digest: digest)
            changes.append(Change(resource: .image(directory), group: .stale, action: .delete,
                                  summary: "delete cached image \(Self.short(digest)) (no manifest names it)",
                                  reason: .noLongerInManifests,
                                  operation: .deleteFromImageStore(root: root, path: directory), phase: .images))
        }
        return changes
    }

    /// `sha256:0123456789ab`: enough to tell digests apart in a line for people; JSON has the whole digest.
    static func short(_ digest: String) -> String { String(digest.prefix("sha256:".count + 12)) }
}
