import MooringModel
import MooringPlan

/// A link mooring should own, derived from the desired state: the unit the link planner compares.
struct LinkSpec: Equatable {
    enum Kind: Equatable {
        case bridge
        case tap(vnetHeader: Bool, multiQueue: Bool)
        case macvtap(parent: String, mode: MacvtapMode)
        case vxlan(DesiredVxlan)
        case vlan(parent: String, id: Int)

        var name: String {
            switch self {
            case .bridge: return "bridge"
            case .tap: return "tap"
            case .macvtap: return "macvtap"
            case .vxlan: return "vxlan"
            case .vlan: return "vlan"
            }
        }
    }

    var name: String
    /// Recorded in the alias: `Bridge/microvm`, `MicroVM/web-1/eth0`.
    var owner: String
    /// The manifest it serves, e.g. `MicroVM "web-1"`.
    var group: ChangeGroup
    /// For humans: `MicroVM web-1 eth0`.
    var label: String
    var kind: Kind
    var master: String?
    var mtu: Int?
    var mac: MACAddress?
    var addresses: [CIDR]
    /// The MicroVM using this device, if any.
    var microVM: String?

    var alias: String { DeviceNaming.alias(owner) }

    var phase: Phase {
        switch kind {
        case .bridge: return Phase.createBridges
        case .vxlan, .vlan: return Phase.bridgePorts
        case .tap, .macvtap: return Phase.microVMDevices
        }
    }

    /// Every link the desired state implies, masters first.
    static func all(in desired: DesiredState) -> [LinkSpec] {
        var specs: [LinkSpec] = []
        var bridgeMTU: [String: Int] = [:]
        for bridge in desired.bridges {
            bridgeMTU[bridge.name] = bridge.mtu
            let group = ChangeGroup(bridge.origin)
            specs.append(LinkSpec(name: bridge.name, owner: bridge.origin.reference, group: group,
                                  label: "Bridge \(bridge.name)", kind: .bridge, mtu: bridge.mtu,
                                  addresses: bridge.addresses))
            if let vxlan = bridge.vxlan {
                specs.append(LinkSpec(name: vxlan.name, owner: "\(bridge.origin.reference)/vxlan", group: group,
                                      label: "Bridge \(bridge.name) vxlan", kind: .vxlan(vxlan), master: bridge.name,
                                      mtu: bridge.mtu, addresses: []))
            }
            if let vlan = bridge.vlan {
                specs.append(LinkSpec(name: vlan.name, owner: "\(bridge.origin.reference)/vlan", group: group,
                                      label: "Bridge \(bridge.name) vlan", kind: .vlan(parent: vlan.parent, id: vlan.id),
                                      master: bridge.name, mtu: bridge.mtu, addresses: []))
            }
        }
        for vm in desired.microVMs {
            for interface in vm.interfaces {
                let kind: Kind
                var master: String?
                var mtu: Int?
                var mac: MACAddress?
                switch interface.type {
                case .tap:
                    kind = .tap(vnetHeader: true, multiQueue: false)
                    master = interface.bridge
                    mtu = interface.bridge.flatMap { bridgeMTU[$0] }
                case .macvtap:
                    kind = .macvtap(parent: interface.parentInterface ?? "", mode: interface.macvtapMode)
                    // The guest's MAC is the macvtap's: the kernel delivers only frames addressed to it. A passthru
                    // macvtap has no MAC of its own: it is its parent's, and setting it rewrites the parent's (the
                    // kernel passes it down), so mooring never sets it; the guest uses the parent's (VMMEnvironment).
                    mac = interface.macvtapMode == .passthru ? nil : interface.mac
                }
                specs.append(LinkSpec(name: interface.hostDeviceName,
                                      owner: "\(vm.origin.reference)/\(interface.guestDeviceName)",
                                      group: ChangeGroup(vm.origin), label: "MicroVM \(vm.name) \(interface.guestDeviceName)",
                                      kind: kind, master: master, mtu: mtu, mac: mac, addresses: [], microVM: vm.name))
            }
        }
        return specs
    }
}

/// One field in which a link differs from its spec: typed before/after values for the plan, a line for
/// people, and, for settings that can change in place, the action that changes it.
struct LinkDifference {
    var field: FieldChange
    /// `mtu 1500 -> 9000`.
    var text: String
    /// The in-place change; nil for what only recreating the link changes.
    var set: Action?
    var summary: String
    var reason: String
    /// Where the change runs when it is not the link's own phase (addresses).
    var phase: Phase?

    init(_ field: String, _ before: JSONValue, _ after: JSONValue, _ text: String, set: Action? = nil, summary: String = "",
         reason: String = "", phase: Phase? = nil) {
        self.field = FieldChange(field, before: before, after: after)
        self.text = text
        self.set = set
        self.summary = summary
        self.reason = reason
        self.phase = phase
    }
}
