/// Checks that need the whole manifest set (references, duplicates, collisions) and resolves defaults
/// into a `DesiredState`. Runs after every document decoded on its own.
struct ManifestSetValidator {
    let manifests: [Manifest]
    private(set) var diagnostics: [Diagnostic] = []
    /// One warning per undeclared interface name, however often it is used.
    var warnedInterfaces: Set<String> = []

    init(manifests: [Manifest]) { self.manifests = manifests }

    mutating func error(_ origin: ManifestOrigin, at location: SourceLocation, _ path: String, _ message: String) {
        diagnostics.append(.error(at: location, subject: origin.subject, path: path, message))
    }

    mutating func warning(_ origin: ManifestOrigin, at location: SourceLocation, _ path: String, _ message: String) {
        diagnostics.append(.warning(at: location, subject: origin.subject, path: path, message))
    }

    mutating func validate() -> DesiredState {
        var state = DesiredState()
        let unique = uniqueByKindAndName()

        var hostSpec: HostSpec?
        for (manifest, spec) in unique.compactMap({ m -> (Manifest, HostSpec)? in
            if case let .host(spec) = m.spec { return (m, spec) } else { return nil } }) {
            if let first = state.host.origin {
                error(manifest.origin, at: manifest.nameLocation, "kind",
                      "at most one Host document may apply to a host (Host \"\(first.name)\" is at \(first.location))")
                continue
            }
            state.host = DesiredHost(origin: manifest.origin, parentInterface: spec.parentInterface?.value,
                                     defaultBridge: spec.defaultBridge?.value, vmm: spec.vmm?.value ?? .qemuMicrovm,
                                     accelerator: spec.accelerator?.value ?? .kvm)
            state.host.imageRoot = spec.imageRoot?.value ?? DesiredHost.defaultImageRoot
            state.host.antiSpoofing = spec.antiSpoofing?.value ?? true
            hostSpec = spec
        }

        let bridges: [(Manifest, BridgeSpec)] = unique.compactMap { m in
            if case let .bridge(spec) = m.spec { return (m, spec) } else { return nil }
        }
        let nats: [(Manifest, NATSpec)] = unique.compactMap { m in
            if case let .nat(spec) = m.spec { return (m, spec) } else { return nil }
        }
        let vms: [(Manifest, MicroVMSpec)] = unique.compactMap { m in
            if case let .microVM(spec) = m.spec { return (m, spec) } else { return nil }
        }
        let declaredBridges = Dictionary(bridges.map { ($0.0.origin.name, $0.1) }, uniquingKeysWith: { first, _ in first })

        state.bridges = bridges.map { resolveBridge($0.0, $0.1) }
        state.microVMs = vms.map { resolveMicroVM($0.0, $0.1, host: state.host, hostSpec: hostSpec, bridges: declaredBridges) }
        state.nats = nats.map { resolveNAT($0.0, $0.1, bridges: declaredBridges) }

        if let hostSpec, let origin = state.host.origin {
            if let bridge = hostSpec.defaultBridge, declaredBridges[bridge.value] == nil {
                warnUndeclared(bridge.value, origin, bridge, role: "bridge")
            }
            if let parent = hostSpec.parentInterface, declaredBridges[parent.value] == nil {
                warnUndeclared(parent.value, origin, parent, role: "parent interface")
            }
        }
        checkLinkNames(state, bridges: bridges, vms: vms)
        checkPorts(bridges)
        checkBridgeSizes(state, bridges: bridges)
        checkAddresses(state, bridges: bridges, vms: vms)
        checkMACs(vms, state)
        checkPassthru(state, vms: vms)
        checkForwards(nats)
        return state
    }

    // MARK: Duplicates

    /// Drops (and reports) a second document with the same kind and name.
    private mutating func uniqueByKindAndName() -> [Manifest] {
        var seen: [String: [Manifest]] = [:]
        var out: [Manifest] = []
        for manifest in manifests {
            let key = manifest.origin.reference
            if let clash = seen[key]?.first {
                error(manifest.origin, at: manifest.nameLocation, "metadata.name",
                      "duplicate \(manifest.origin.kind.rawValue) name (first declared at \(clash.origin.location)); names must be unique per kind on a host")
                continue
            }
            seen[key, default: []].append(manifest)
            out.append(manifest)
        }
        return out
    }


    mutating func warnUndeclared(_ name: String, _ origin: ManifestOrigin, _ use: Located<String>, role: String) {
        guard warnedInterfaces.insert(name).inserted else { return }
        let what = role == "bridge" ? "no Bridge manifest declares \"\(name)\"" : "\"\(name)\" is not declared in the manifests"
        diagnostics.append(Diagnostic(.warning, at: use.location, subject: origin.subject, path: use.path,
                                      "\(what); `mooring plan` checks that it exists on the host",
                                      settledByHostCheck: true))
    }

}
