/// Checks that need the whole manifest set (references, duplicates, collisions) and resolves defaults
/// into a `DesiredState`. Runs after every document decoded on its own.
struct ManifestSetValidator {
    let manifests: [Manifest]
    private(set) var diagnostics: [Diagnostic] = []
    /// One warning per undeclared interface name, however often it is used.
    private var warnedInterfaces: Set<String> = []

    init(manifests: [Manifest]) { self.manifests = manifests }

    private mutating func error(_ origin: ManifestOrigin, at location: SourceLocation, _ path: String, _ message: String) {
        diagnostics.append(.error(at: location, subject: origin.subject, path: path, message))
    }

    private mutating func warning(_ origin: ManifestOrigin, at location: SourceLocation, _ path: String, _ message: String) {
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


    private mutating func warnUndeclared(_ name: String, _ origin: ManifestOrigin, _ use: Located<String>, role: String) {
        guard warnedInterfaces.insert(name).inserted else { return }
        let what = role == "bridge" ? "no Bridge manifest declares \"\(name)\"" : "\"\(name)\" is not declared in the manifests"
        diagnostics.append(Diagnostic(.warning, at: use.location, subject: origin.subject, path: use.path,
                                      "\(what); `mooring plan` checks that it exists on the host",
                                      settledByHostCheck: true))
    }

    // MARK: Bridges

    private func resolveBridge(_ manifest: Manifest, _ spec: BridgeSpec) -> DesiredBridge {
        let name = manifest.origin.name
        let vxlan = spec.vxlan.map {
            DesiredVxlan(name: DeviceNaming.vxlanPort(bridge: name), vni: $0.vni.value, local: $0.local?.value,
                         remote: $0.remote?.value, group: $0.group?.value, dstPort: $0.dstPort, device: $0.device?.value)
        }
        let vlan = spec.vlan.map {
            DesiredVlan(name: DeviceNaming.vlanPort(parent: $0.parent.value, id: $0.id.value), parent: $0.parent.value, id: $0.id.value)
        }
        return DesiredBridge(origin: manifest.origin, name: name, addresses: spec.addresses.map(\.value),
                             mtu: spec.mtu?.value, ports: spec.ports.map(\.value), vxlan: vxlan, vlan: vlan)
    }

    // MARK: MicroVMs

    private mutating func resolveMicroVM(_ manifest: Manifest, _ spec: MicroVMSpec, host: DesiredHost, hostSpec: HostSpec?,
                                         bridges: [String: BridgeSpec]) -> DesiredMicroVM {
        let origin = manifest.origin
        let vmm = spec.vmm?.value ?? host.vmm
        if vmm != .none {
            if spec.vcpu == nil && !spec.writtenFields.contains("vcpu") { error(origin, at: spec.specLocation, "spec.vcpu", "is required (the number of virtual CPUs, e.g. 1)") }
            if spec.memoryMb == nil && !spec.writtenFields.contains("memoryMb") { error(origin, at: spec.specLocation, "spec.memoryMb", "is required (guest memory in MiB, e.g. 256)") }
            if spec.kernel == nil && !spec.writtenFields.contains("kernel") {
                error(origin, at: spec.specLocation, "spec.kernel",
                      "is required to run the VMM (a host path such as /var/lib/mooring/vmlinux); use vmm: none if another tool runs it")
            }
        }
        var interfaces: [DesiredInterface] = []
        for item in spec.networkInterfaces {
            let guestName = item.guestDeviceName.value
            let hostName = item.hostDeviceName?.value ?? DeviceNaming.microVMDevice(vm: origin.name, device: guestName)
            let mac = item.guestMac?.value ?? DeviceNaming.guestMAC(vm: origin.name, device: guestName)
            var bridge: String?
            var parent: String?
            var gateway: IPAddress?
            switch item.type.value {
            case .tap:
                if let given = item.bridge {
                    bridge = given.value
                    if bridges[given.value] == nil { warnUndeclared(given.value, origin, given, role: "bridge") }
                } else if let fallback = host.defaultBridge {
                    bridge = fallback
                } else {
                    error(origin, at: item.location, "\(item.path).bridge",
                          "a tap needs a bridge: set bridge here, or spec.defaultBridge in the Host manifest")
                }
                if let bridge, let address = item.address?.value,
                   let match = bridges[bridge]?.addresses.first(where: { $0.value.contains(address.address) }) {
                    gateway = match.value.address
                }
            case .macvtap:
                if vmm == .firecracker {
                    error(origin, at: item.type.location, "\(item.path).type",
                          "firecracker cannot use macvtap devices; use type: tap, or vmm: qemu-microvm or cloud-hypervisor")
                }
                if let given = item.parentInterface {
                    parent = given.value
                    if bridges[given.value] == nil { warnUndeclared(given.value, origin, given, role: "parent interface") }
                } else if let fallback = host.parentInterface {
                    parent = fallback
                } else {
                    error(origin, at: item.location, "\(item.path).parentInterface",
                          "a macvtap needs a parent interface: set parentInterface here, or spec.parentInterface in the Host manifest")
                }
            }
            interfaces.append(DesiredInterface(guestDeviceName: guestName, type: item.type.value, hostDeviceName: hostName,
                                               mac: mac, address: item.address?.value, gateway: gateway, bridge: bridge,
                                               parentInterface: parent, macvtapMode: item.macvtapMode))
        }
        let volume = spec.rootVolume.flatMap { volume in
            volume.path.map { DesiredVolume(id: volume.id ?? "root", path: $0.value, readOnly: volume.readOnly) }
        }
        return DesiredMicroVM(origin: origin, name: origin.name, vcpu: spec.vcpu?.value ?? 1,
                              memoryMb: spec.memoryMb?.value ?? 256, kernel: spec.kernel?.path.value,
                              initrd: spec.initrd?.path.value, rootVolume: volume, kernelCmdline: spec.kernelCmdline,
                              vmm: vmm, accelerator: host.accelerator, labels: spec.labels, interfaces: interfaces)
    }

    // MARK: NAT

    private mutating func resolveNAT(_ manifest: Manifest, _ spec: NATSpec, bridges: [String: BridgeSpec]) -> DesiredNAT {
        let origin = manifest.origin
        if bridges[spec.externalInterface.value] == nil {
            warnUndeclared(spec.externalInterface.value, origin, spec.externalInterface, role: "external interface")
        }
        var internalSubnets: [CIDR] = []
        for name in spec.internalInterfaces {
            if let bridge = bridges[name.value] {
                internalSubnets += bridge.addresses.map(\.value)
            } else {
                warnUndeclared(name.value, origin, name, role: "bridge")
            }
        }
        for forward in spec.forwardPorts {
            if !forward.destination.isIPv4 && !spec.enableIPv6 {
                error(origin, at: forward.destinationLocation, "\(forward.path).destination",
                      "\(forward.destination) is an IPv6 destination but spec.enableIPv6 is false; set enableIPv6: true")
            }
            let covered = spec.internalInterfaces.allSatisfy { bridges[$0.value] != nil }
            if covered && !internalSubnets.contains(where: { $0.contains(forward.destination) }) {
                warning(origin, at: forward.destinationLocation, "\(forward.path).destination",
                        "\(forward.destination) is outside every internal bridge's subnets (\(internalSubnets.map(\.description).joined(separator: ", ")))")
            }
        }
        let forwards = spec.forwardPorts.map {
            DesiredForward(proto: $0.proto, sourcePort: $0.sourcePort, destination: $0.destination,
                           destinationPort: $0.destinationPort, loopback: $0.loopback)
        }
        return DesiredNAT(origin: origin, externalInterface: spec.externalInterface.value,
                          internalInterfaces: spec.internalInterfaces.map(\.value), enableIPv6: spec.enableIPv6,
                          forwards: forwards)
    }

    /// Two forwards for the same protocol and address family may not claim the same port. Sorted by port
    /// within each (protocol, family), so a thousand forwards cost a sort, not a million comparisons.
    private mutating func checkForwards(_ nats: [(Manifest, NATSpec)]) {
        struct Claim { var order: Int; var origin: ManifestOrigin; var forward: ForwardPortSpec }
        var groups: [String: [Claim]] = [:]
        var order = 0
        for (manifest, spec) in nats {
            for forward in spec.forwardPorts {
                groups["\(forward.proto.rawValue)/\(forward.destination.family.rawValue)", default: []]
                    .append(Claim(order: order, origin: manifest.origin, forward: forward))
                order += 1
            }
        }
        var clashes: [(Claim, Claim)] = []
        for claims in groups.values {
            // Among overlapping forwards the one written first wins; every later one is reported against it.
            let sorted = claims.sorted { ($0.forward.sourcePort.lower, $0.order) < ($1.forward.sourcePort.lower, $1.order) }
            var widest: Claim?
            for claim in sorted {
                if let holder = widest, holder.forward.sourcePort.upper >= claim.forward.sourcePort.lower {
                    let (first, second) = holder.order < claim.order ? (holder, claim) : (claim, holder)
                    clashes.append((second, first))
                    if claim.forward.sourcePort.upper > holder.forward.sourcePort.upper, claim.order < holder.order { widest = claim }
                } else {
                    widest = claim
                }
            }
        }
        for (later, earlier) in clashes.sorted(by: { $0.0.order < $1.0.order }) {
            let forward = later.forward
            error(later.origin, at: forward.location, "\(forward.path).sourcePort",
                  "\(forward.proto.rawValue) port \(forward.sourcePort) (\(forward.destination.isIPv4 ? "IPv4" : "IPv6")) is already forwarded by \(earlier.origin.subject) at \(earlier.forward.location)")
        }
    }

    // MARK: Collisions

    /// Every link mooring creates needs a name of its own, and none may be a host port.
    private mutating func checkLinkNames(_ state: DesiredState, bridges: [(Manifest, BridgeSpec)], vms: [(Manifest, MicroVMSpec)]) {
        var owners: [String: (String, SourceLocation)] = [:]
        func claim(_ name: String, _ owner: String, _ origin: ManifestOrigin, _ location: SourceLocation, _ path: String,
                   _ validator: inout ManifestSetValidator) {
            if let first = owners[name] {
                validator.error(origin, at: location, path,
                                "host device name \"\(name)\" is also used by \(first.0) at \(first.1); set hostDeviceName to a unique name")
                return
            }
            owners[name] = (owner, location)
        }
        for (manifest, spec) in bridges {
            claim(manifest.origin.name, manifest.origin.subject, manifest.origin, manifest.nameLocation, "metadata.name", &self)
            if let vxlan = spec.vxlan {
                claim(DeviceNaming.vxlanPort(bridge: manifest.origin.name), "\(manifest.origin.subject) vxlan",
                      manifest.origin, vxlan.location, "spec.vxlan", &self)
            }
            if let vlan = spec.vlan {
                claim(DeviceNaming.vlanPort(parent: vlan.parent.value, id: vlan.id.value), "\(manifest.origin.subject) vlan",
                      manifest.origin, vlan.location, "spec.vlan", &self)
            }
        }
        for ((manifest, spec), vm) in zip(vms, state.microVMs) {
            for (item, resolved) in zip(spec.networkInterfaces, vm.interfaces) {
                let location = item.hostDeviceName?.location ?? item.guestDeviceName.location
                let path = item.hostDeviceName == nil ? "\(item.path).guestDeviceName" : "\(item.path).hostDeviceName"
                claim(resolved.hostDeviceName, "\(manifest.origin.subject) \(item.guestDeviceName.value)", manifest.origin,
                      location, path, &self)
            }
        }
        for (manifest, spec) in bridges {
            for port in spec.ports where port.value != manifest.origin.name {
                if let owner = owners[port.value] {
                    error(manifest.origin, at: port.location, port.path,
                          "\"\(port.value)\" is a device mooring creates (\(owner.0)); ports are existing host interfaces")
                }
            }
        }
        let nats = manifests.compactMap { m -> (Manifest, NATSpec)? in if case let .nat(s) = m.spec { return (m, s) } else { return nil } }
        for (manifest, spec) in nats {
            if let owner = owners[spec.externalInterface.value], owner.0.hasPrefix("MicroVM") {
                error(manifest.origin, at: spec.externalInterface.location, spec.externalInterface.path,
                      "\"\(spec.externalInterface.value)\" is a MicroVM device (\(owner.0)), not an external interface")
            }
        }
    }

    /// The kernel numbers bridge ports with 10 bits: a bridge takes at most 1023 ports (then EXFULL).
    static let maxBridgePorts = 1023

    private mutating func checkBridgeSizes(_ state: DesiredState, bridges: [(Manifest, BridgeSpec)]) {
        var taps: [String: Int] = [:]
        for vm in state.microVMs {
            for interface in vm.interfaces where interface.type == .tap {
                if let bridge = interface.bridge { taps[bridge, default: 0] += 1 }
            }
        }
        for (manifest, spec) in bridges {
            let ports = (taps[manifest.origin.name] ?? 0) + spec.ports.count + (spec.vxlan == nil ? 0 : 1) + (spec.vlan == nil ? 0 : 1)
            if ports > Self.maxBridgePorts {
                error(manifest.origin, at: manifest.nameLocation, "metadata.name",
                      "\(ports) ports (taps, host ports, VXLAN/VLAN) would join this bridge; a Linux bridge holds at most \(Self.maxBridgePorts): spread the MicroVMs over more bridges")
            }
        }
    }

    private mutating func checkPorts(_ bridges: [(Manifest, BridgeSpec)]) {
        var enslaved: [String: (ManifestOrigin, SourceLocation)] = [:]
        for (manifest, spec) in bridges {
            for port in spec.ports {
                if port.value == manifest.origin.name {
                    error(manifest.origin, at: port.location, port.path, "a bridge cannot be its own port")
                } else if let first = enslaved[port.value] {
                    error(manifest.origin, at: port.location, port.path,
                          "\"\(port.value)\" is already a port of \(first.0.subject) at \(first.1); an interface has one master")
                } else {
                    enslaved[port.value] = (manifest.origin, port.location)
                }
            }
        }
    }

    /// The same address on two links, or a guest address that is the bridge's own, cannot work.
    private mutating func checkAddresses(_ state: DesiredState, bridges: [(Manifest, BridgeSpec)], vms: [(Manifest, MicroVMSpec)]) {
        // Who first used an address; described only when there is a clash.
        var used: [IPAddress: (ManifestOrigin, SourceLocation)] = [:]
        func claim(_ address: Located<CIDR>, _ origin: ManifestOrigin, _ validator: inout ManifestSetValidator) {
            if let (firstOrigin, firstLocation) = used[address.value.address] {
                validator.error(origin, at: address.location, address.path,
                                "address \(address.value.address) is also used by \(firstOrigin.subject) at \(firstLocation)")
            } else {
                used[address.value.address] = (origin, address.location)
            }
        }
        for (manifest, spec) in bridges {
            for address in spec.addresses { claim(address, manifest.origin, &self) }
        }
        for (manifest, spec) in vms {
            for item in spec.networkInterfaces {
                if let address = item.address { claim(address, manifest.origin, &self) }
            }
        }
    }

    private mutating func checkMACs(_ vms: [(Manifest, MicroVMSpec)], _ state: DesiredState) {
        var used: [MACAddress: (ManifestOrigin, String, SourceLocation)] = [:]
        for ((manifest, spec), vm) in zip(vms, state.microVMs) {
            for (item, resolved) in zip(spec.networkInterfaces, vm.interfaces) {
                let location = item.guestMac?.location ?? item.location
                if let (firstOrigin, device, firstLocation) = used[resolved.mac] {
                    error(manifest.origin, at: location, "\(item.path).guestMac",
                          "MAC address \(resolved.mac) is also used by \(firstOrigin.subject) \(device) at \(firstLocation); every guest interface needs its own")
                } else {
                    used[resolved.mac] = (manifest.origin, item.guestDeviceName.value, location)
                }
            }
        }
    }

    /// A passthru macvtap takes its parent exclusively, MAC included: the kernel passes a MAC set on the macvtap
    /// down to the parent, so a guestMac would rewrite a host interface's address. The guest uses the parent's.
    private mutating func checkPassthru(_ state: DesiredState, vms: [(Manifest, MicroVMSpec)]) {
        var byParent: [String: [(ManifestOrigin, NetworkInterfaceSpec, DesiredInterface)]] = [:]
        for ((manifest, spec), vm) in zip(vms, state.microVMs) {
            for (item, resolved) in zip(spec.networkInterfaces, vm.interfaces) where resolved.type == .macvtap {
                if let parent = resolved.parentInterface { byParent[parent, default: []].append((manifest.origin, item, resolved)) }
                if resolved.macvtapMode == .passthru, let mac = item.guestMac {
                    error(manifest.origin, at: mac.location, "\(item.path).guestMac",
                          "a passthru macvtap gives the VM the whole of \(resolved.parentInterface ?? "its parent"), MAC included: "
                          + "the guest uses that interface's own MAC, and setting another would change the host interface; "
                          + "remove guestMac (or use macvtapMode: bridge to give the guest its own MAC)")
                }
            }
        }
        for (parent, users) in byParent.sorted(by: { $0.key < $1.key }) where users.count > 1 {
            for (origin, item, resolved) in users where resolved.macvtapMode == .passthru {
                error(origin, at: item.location, "\(item.path).macvtapMode",
                      "passthru takes \(parent) for one macvtap only, but \(users.count) macvtaps use it; use bridge mode or another parent")
            }
        }
    }
}
