import MooringModel
import MooringPlan
@testable import MooringPlanner
import MooringReports

/// Hand-built desired and observed states: the planner is pure, so its tests need no kernel.
enum Fixture {
    static func origin(_ kind: ManifestKind, _ name: String) -> ManifestOrigin {
        ManifestOrigin(kind: kind, name: name, location: SourceLocation(file: "m.yaml", line: 1, column: 1))
    }

    static func bridge(_ name: String, addresses: [String] = [], mtu: Int? = nil, ports: [String] = []) -> DesiredBridge {
        DesiredBridge(origin: origin(.bridge, name), name: name, addresses: addresses.compactMap(CIDR.init), mtu: mtu,
                      ports: ports)
    }

    static func tapVM(_ name: String, bridge: String, device: String = "eth0") -> DesiredMicroVM {
        DesiredMicroVM(origin: origin(.microVM, name), name: name, vmm: .none, interfaces: [
            DesiredInterface(guestDeviceName: device, type: .tap,
                             hostDeviceName: DeviceNaming.microVMDevice(vm: name, device: device),
                             mac: DeviceNaming.guestMAC(vm: name, device: device), bridge: bridge),
        ])
    }

    static func macvtapVM(_ name: String, parent: String, mode: MacvtapMode = .bridge) -> DesiredMicroVM {
        DesiredMicroVM(origin: origin(.microVM, name), name: name, vmm: .none, interfaces: [
            DesiredInterface(guestDeviceName: "eth0", type: .macvtap, hostDeviceName: "vm-\(name)-eth0",
                             mac: MACAddress("02:00:00:00:00:01")!, parentInterface: parent, macvtapMode: mode),
        ])
    }

    /// Observed links, numbered from 1 in order.
    struct Links {
        var links: [ObservedLink] = []

        mutating func add(_ name: String, _ kind: ObservedLinkKind, owner: String? = nil, master: String? = nil,
                          parent: String? = nil, mtu: Int = 1500, up: Bool = true, addresses: [String] = [],
                          mac: String? = nil) {
            let index = links.count + 1
            // A bridge mooring made carries the MAC it was given (DeviceNaming.bridgeMAC) unless a test says otherwise.
            let mac = mac ?? (kind.isBridge && owner != nil ? DeviceNaming.bridgeMAC(name).description : nil)
            // A bridge reads back with its MAC as its setting.
            let kind = kind.isBridge ? .made(.bridge(BridgeConfig(mac: mac.flatMap(MACAddress.init)))) : kind
            links.append(ObservedLink(index: index, name: name, kind: kind,
                                      masterIndex: master.flatMap { m in links.first { $0.name == m }?.index },
                                      parentIndex: parent.flatMap { p in links.first { $0.name == p }?.index },
                                      mac: mac.flatMap(MACAddress.init), mtu: mtu, isUp: up,
                                      alias: owner.map(DeviceNaming.alias), addresses: addresses.compactMap(CIDR.init)))
        }

        var state: ObservedState { ObservedState(links: links) }
    }

    /// A tap as mooring makes it for a `vmm: none` VM (`tapVM`): one queue, no owner.
    static let tap = ObservedLinkKind.made(.tap(TapConfig(vnetHeader: true, multiQueue: false)))
}

extension ObservedLinkKind {
    /// A bridge; `Fixtures.Links.add` gives it the link's MAC.
    static let bridge = ObservedLinkKind.made(.bridge(BridgeConfig()))
}
