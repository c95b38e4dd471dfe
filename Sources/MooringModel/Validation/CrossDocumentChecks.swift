/// Checks across documents, on the resolved state: link names claimed twice, addresses and MACs used twice,
/// bridges too large, passthru parents shared, forwards that overlap.
extension ManifestSetValidator {
    // MARK: Collisions

    /// Every link mooring creates needs a name of its own, and none may be a host port.
    mutating func checkLinkNames(_ state: DesiredState, bridges: [(Manifest, BridgeSpec)], vms: [(Manifest, MicroVMSpec)]) {
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
            for port in spec.madePorts {
                claim(port.deviceName(bridge: manifest.origin.name), "\(manifest.origin.subject) \(port.field)",
                      manifest.origin, port.location, "spec.\(port.field)", &self)
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

    mutating func checkBridgeSizes(_ state: DesiredState, bridges: [(Manifest, BridgeSpec)]) {
        var taps: [String: Int] = [:]
        for vm in state.microVMs {
            for interface in vm.interfaces where interface.type == .tap {
                if let bridge = interface.bridge { taps[bridge, default: 0] += 1 }
            }
        }
        for (manifest, spec) in bridges {
            let ports = (taps[manifest.origin.name] ?? 0) + spec.ports.count + spec.madePorts.count
            if ports > Self.maxBridgePorts {
                error(manifest.origin, at: manifest.nameLocation, "metadata.name",
                      "\(ports) ports (taps, host ports, VXLAN/VLAN) would join this bridge; a Linux bridge holds at most \(Self.maxBridgePorts): spread the MicroVMs over more bridges")
            }
        }
    }

    mutating func checkPorts(_ bridges: [(Manifest, BridgeSpec)]) {
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
    mutating func checkAddresses(_ state: DesiredState, bridges: [(Manifest, BridgeSpec)], vms: [(Manifest, MicroVMSpec)]) {
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
                for address in item.addresses { claim(address, manifest.origin, &self) }
            }
        }
    }

    mutating func checkMACs(_ vms: [(Manifest, MicroVMSpec)], _ state: DesiredState) {
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
    mutating func checkPassthru(_ state: DesiredState, vms: [(Manifest, MicroVMSpec)]) {
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


    /// Two forwards for the same protocol and address family may not claim the same port. Sorted by port
    /// within each (protocol, family), so a thousand forwards cost a sort, not a million comparisons.
    mutating func checkForwards(_ nats: [(Manifest, NATSpec)]) {
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
}
