import MooringModel

/// Short imperative descriptions of operations, for errors and progress lines.
public enum ActionText {
    public static func describe(_ operation: Action) -> String {
        switch operation {
        case let .createLink(name, _, _, _, config):
            return "create \(config.kind.name) \(name)" + config.kind.references.map { " on \($0.link)" }.joined()
        case let .setMaster(link, master): return master.map { "enslave \(link) to \($0)" } ?? "release \(link) from its bridge"
        case let .setMTU(link, mtu): return "set mtu \(mtu) on \(link)"
        case let .pinBridgeMTU(link, mtu): return "pin mtu \(mtu) on bridge \(link)"
        case let .setMAC(link, mac): return "set mac \(mac) on \(link)"
        case let .setUp(link): return "set \(link) up"
        case let .setAlias(link, alias): return "mark \(link) as \(alias)"
        case let .setPortIsolation(link, isolated): return "set bridge port \(link) isolated \(isolated ? "on" : "off")"
        case let .setPortLearning(link, learning): return "set bridge port \(link) learning and unicast flooding \(learning ? "on" : "off")"
        case let .addStaticFDB(link, mac): return "add static fdb entry \(mac) dev \(link)"
        case let .deleteStaticFDB(link, mac): return "delete static fdb entry \(mac) dev \(link)"
        case let .deleteLink(name): return "delete link \(name)"
        case let .addAddress(link, address): return "add address \(address) to \(link)"
        case let .removeAddress(link, address): return "remove address \(address) from \(link)"
        case let .addRoute(link, route): return "add route \(route.text) dev \(link)"
        case let .deleteRoute(link, route): return "delete route \(route.text) dev \(link)"
        case let .replaceNftTable(table): return "replace table inet mooring (\(table.rules.count) rules)"
        case .deleteNftTable: return "delete table inet mooring"
        case let .replaceGuestFilter(table): return "replace table \(table.family) mooring (\(table.sets.first { $0.name == "guest_ports" }?.elements.count ?? 0) guest ports)"
        case let .deleteGuestFilter(family): return "delete table \(family) mooring"
        case let .setSysctl(name, value): return "set \(name) = \(value)"
        case let .setNameservers(link, nameservers): return "set DNS of \(link) to \(nameservers.text)"
        case let .startUnit(spec): return "start unit \(spec.name)"
        case let .restartUnit(spec): return "restart unit \(spec.name)"
        case let .stopUnit(name, _): return "stop unit \(name)"
        case let .fetchImage(fetch):
            return (fetch.cached ? "make the disk of image " : "pull image ") + "\(fetch.reference) (\(fetch.digest))"
        case let .createVMDisk(layer): return "create \(layer.format == .qcow2 ? "overlay" : "copy") \(layer.path) of \(layer.backing)"
        case let .deleteFromImageStore(_, path): return "delete \(path) from the image store"
        }
    }
}
