import MooringModel
import MooringPlan

/// A link mooring should own, derived from the desired state: the unit the link planner compares.
struct LinkSpec: Equatable {
    var name: String
    /// Recorded in the alias: `Bridge/microvm`, `MicroVM/web-1/eth0`.
    var owner: String
    /// The manifest it serves, e.g. `MicroVM "web-1"`.
    var group: ChangeGroup
    /// For humans: `MicroVM web-1 eth0`.
    var label: String
    /// What it is made of, by kind (LinkKinds/ in MooringModel).
    var config: LinkConfig
    var master: String?
    var mtu: Int?
    var mac: MACAddress?
    var addresses: [CIDR]
    /// The MicroVM using this device, if any.
    var microVM: String?
    /// A tap's bridge port isolation; nil for links that are no MicroVM's bridge port.
    var isolated: Bool?
    /// A tap's port learning (false: learning and unknown-unicast flooding off, a static entry for `guestMAC`);
    /// nil for links that are no MicroVM's bridge port.
    var learning: Bool?
    var guestMAC: MACAddress?

    var alias: String { DeviceNaming.alias(owner) }

    /// `bridge`, `tap`, ...
    var kindName: String { config.kind.name }
    var isBridge: Bool { if case .bridge = config { true } else { false } }
    var phase: Phase { Phase(creating: config.kind.role) }

    /// Every link the desired state implies, masters first.
    /// - Parameter identities: who each VMM runs as: its taps are owned by that user and group.
    static func all(in desired: DesiredState, identities: VMMIdentityMap = VMMIdentityMap(shared: nil)) -> [LinkSpec] {
        var specs: [LinkSpec] = []
        var bridgeMTU: [String: Int] = [:]
        for bridge in desired.bridges {
            bridgeMTU[bridge.name] = bridge.mtu
            let group = ChangeGroup(bridge.origin)
            let mac = DeviceNaming.bridgeMAC(bridge.name, host: desired.host.macIdentity)
            specs.append(LinkSpec(name: bridge.name, owner: bridge.origin.reference, group: group,
                                  label: "Bridge \(bridge.name)", config: .bridge(BridgeConfig(mac: mac)), mtu: bridge.mtu,
                                  mac: mac, addresses: bridge.addresses))
            for port in bridge.madePorts {
                specs.append(LinkSpec(name: port.name, owner: "\(bridge.origin.reference)/\(port.field)", group: group,
                                      label: "Bridge \(bridge.name) \(port.field)", config: port.config, master: bridge.name,
                                      mtu: bridge.mtu, addresses: []))
            }
        }
        for vm in desired.microVMs {
            for interface in vm.interfaces {
                let config: LinkConfig
                var master: String?
                var mtu: Int?
                var mac: MACAddress?
                switch interface.type {
                case .tap:
                    // A tap another tool's VMM opens (`vmm: none`) keeps the classic shape: one queue, no owner.
                    let identity = vm.vmm == .none ? nil : identities.identity(of: vm.name)
                    config = .tap(TapConfig(vnetHeader: true, multiQueue: VMMCommand.tapQueues(vm) > 1,
                                            owner: identity?.uid, group: identity?.gid))
                    master = interface.bridge
                    mtu = interface.bridge.flatMap { bridgeMTU[$0] }
                case .macvtap:
                    // The guest's MAC is the macvtap's: the kernel delivers only frames addressed to it. A passthru
                    // macvtap has no MAC of its own: it is its parent's, and setting it rewrites the parent's (the
                    // kernel passes it down), so mooring never sets it; the guest uses the parent's (VMMEnvironment).
                    mac = interface.macvtapMode == .passthru ? nil : interface.mac
                    config = .macvtap(MacvtapConfig(parent: interface.parentInterface ?? "", mode: interface.macvtapMode, mac: mac,
                                                    sourceMACs: interface.sourceMACs))
                }
                specs.append(LinkSpec(name: interface.hostDeviceName,
                                      owner: "\(vm.origin.reference)/\(interface.guestDeviceName)",
                                      group: ChangeGroup(vm.origin), label: "MicroVM \(vm.name) \(interface.guestDeviceName)",
                                      config: config, master: master, mtu: mtu, mac: mac, addresses: [], microVM: vm.name,
                                      isolated: master == nil ? nil : interface.isolated,
                                      learning: master == nil ? nil : interface.learning, guestMAC: master == nil ? nil : interface.mac))
            }
        }
        return specs
    }

    /// Every link name the manifests make or build on: mooring's own links, their masters and what their kinds
    /// reference (parents, underlays), host ports, and the interfaces NAT names.
    static func namesReferenced(by desired: DesiredState) -> Set<String> {
        var names: Set<String> = []
        for spec in all(in: desired) {
            names.insert(spec.name)
            if let master = spec.master { names.insert(master) }
            names.formUnion(spec.config.kind.references.map(\.link))
        }
        names.formUnion(desired.bridges.flatMap(\.ports))
        names.formUnion(desired.nats.flatMap { [$0.externalInterface] + $0.internalInterfaces })
        return names
    }
}
