/// Resolution: each manifest's spec, with defaults from the Host manifest and names derived, becomes its
/// desired value. Errors found on the way are the ones only resolution can tell (a tap without any bridge).
extension ManifestSetValidator {
    // MARK: Bridges

    func resolveBridge(_ manifest: Manifest, _ spec: BridgeSpec) -> DesiredBridge {
        let name = manifest.origin.name
        let madePorts = spec.madePorts.map { DesiredBridgePort(name: $0.deviceName(bridge: name), field: $0.field, config: $0.config) }
        var bridge = DesiredBridge(origin: manifest.origin, name: name, addresses: spec.addresses.map(\.value),
                                   mtu: spec.mtu?.value, ports: spec.ports.map(\.value), madePorts: madePorts,
                                   routes: spec.routes, acceptRA: spec.acceptRA)
        bridge.nameservers = spec.nameservers
        bridge.dhcpServer = spec.dhcpServer?.value
        bridge.ipv6SendRA = spec.ipv6SendRA?.value
        return bridge
    }

    // MARK: MicroVMs

    mutating func resolveMicroVM(_ manifest: Manifest, _ spec: MicroVMSpec, host: DesiredHost, hostSpec: HostSpec?,
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
            // Given gateways win; a tap's are derived from its bridge (derivedGateways).
            var gateways: [IPAddress] = []
            var slaac: [IPAddress] = []
            var nameservers = item.nameservers
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
                if let bridge, let declared = bridges[bridge] {
                    gateways = Self.derivedGateways(item.addresses.map(\.value), bridge: declared)
                    nameservers = nameservers ?? declared.nameservers
                    if declared.ipv6SendRA != nil {
                        // The bridge announces its /64s: the guest takes an address in each by SLAAC, from its MAC.
                        slaac = declared.addresses.map(\.value).filter { !$0.address.isIPv4 && !$0.address.isLinkLocal && $0.prefixLength == 64 }
                            .map { mac.slaacAddress(in: $0) }
                    }
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
            var interface = DesiredInterface(guestDeviceName: guestName, type: item.type.value, hostDeviceName: hostName,
                                             mac: mac, addresses: item.addresses.map(\.value),
                                             gateways: item.gateways.isEmpty ? gateways : item.gateways.map(\.value),
                                             nameservers: nameservers, bridge: bridge,
                                             parentInterface: parent, macvtapMode: item.macvtapMode,
                                             sourceMACs: item.sourceMACs)
            interface.slaacAddresses = slaac.filter { address in !interface.addresses.contains { $0.address == address } }
            interface.isolated = item.isolated
            interface.learning = item.learning
            interface.rateLimit = item.rateLimit
            // With `vmm: none` another tool picks the guest's MAC: filtered only when asked for.
            interface.antiSpoofing = item.antiSpoofing ?? (vmm == .none ? false : host.antiSpoofing)
            interfaces.append(interface)
        }
        func file(_ source: FileSourceSpec?) -> String? { source.flatMap { resolve($0, origin, host: host) } }
        let volume = spec.rootVolume.flatMap { volume in
            file(volume.source).map { DesiredVolume(id: volume.id ?? "root", path: $0, readOnly: volume.readOnly) }
        }
        var additional: [DesiredVolume] = []
        for (index, extra) in spec.volumes.enumerated() {
            guard let path = file(extra.source) else { continue }
            let id = extra.id ?? "volume\(index + 1)"
            if additional.contains(where: { $0.id == id }) || volume?.id == id {
                error(origin, at: spec.specLocation, "spec.volumes[\(index)].id", "volume id \(id) is used twice (each disk needs its own)")
                continue
            }
            additional.append(DesiredVolume(id: id, path: path, readOnly: extra.readOnly, mountPoint: extra.mountPoint == "/" ? nil : extra.mountPoint))
        }
        var microVM = DesiredMicroVM(origin: origin, name: origin.name, vcpu: spec.vcpu?.value ?? 1,
                                     memoryMb: spec.memoryMb?.value ?? 256, kernel: file(spec.kernel?.source),
                                     initrd: file(spec.initrd?.source), rootVolume: volume, kernelCmdline: spec.kernelCmdline,
                                     vmm: vmm, accelerator: host.accelerator, labels: spec.labels, interfaces: interfaces,
                                     stopTimeoutSeconds: spec.stopTimeoutSeconds?.value ?? DesiredMicroVM.defaultStopTimeoutSeconds)
        microVM.additionalVolumes = additional
        // The images its files come from, for the plan's fix when one is not unpacked yet.
        let sources = [spec.kernel?.source, spec.initrd?.source, spec.rootVolume?.source] + spec.volumes.map(\.source)
        microVM.imageReferences = Array(Set(sources.compactMap { source -> String? in
            if case let .image(reference, _)? = source { return reference.value } else { return nil }
        })).sorted()
        microVM.cloudInit = spec.cloudInit
        microVM.sshPublicKeys = spec.sshPublicKeys
        return microVM
    }

    /// The host path of a MicroVM's file: given, or inside its image's directory under `Host.spec.imageRoot`.
    mutating func resolve(_ source: FileSourceSpec, _ origin: ManifestOrigin, host: DesiredHost) -> String? {
        switch source {
        case let .hostPath(path):
            return path.value
        case let .image(reference, file):
            guard let root = host.imageRoot else {
                error(origin, at: reference.location, reference.path,
                      "names an image, but no Host.spec.imageRoot says where images are unpacked (mooring pulls none): "
                      + "set it (e.g. /var/lib/mooring/images) and unpack \(reference.value) there, so \(file.value) is <imageRoot>/\(reference.value)/\(file.value)")
                return nil
            }
            return (root.hasSuffix("/") ? root : root + "/") + reference.value + "/" + file.value
        }
    }

    /// A tap's default gateways, one per family it has an address in: the bridge's own declared gateway on the
    /// guest's subnet when there is one (the bridge holds the host's uplink: the guest sits on the LAN and uses
    /// the LAN's router), else the bridge's address on that subnet (the host routes for its guests).
    static func derivedGateways(_ addresses: [CIDR], bridge: BridgeSpec) -> [IPAddress] {
        var gateways: [IPAddress] = []
        for address in addresses where !gateways.contains(where: { $0.family == address.address.family }) {
            let lanRouter = bridge.routes.first { $0.isDefault && $0.gateway.map(address.contains) == true }?.gateway
            let bridgeAddress = bridge.addresses.first { $0.value.contains(address.address) && $0.value.address != address.address }?.value.address
            if let gateway = lanRouter ?? bridgeAddress { gateways.append(gateway) }
        }
        return gateways
    }

    // MARK: NAT

    mutating func resolveNAT(_ manifest: Manifest, _ spec: NATSpec, bridges: [String: BridgeSpec]) -> DesiredNAT {
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
}
