import MooringModel
import MooringPlan

/// How `apply --try` puts the host back: a plan from the host as it is now to the host as it was observed
/// before the trial, limited to what the tried plan touched. It compares states rather than inverting actions,
/// so it also undoes what the kernel did on its own (the routes it dropped with a moved address) and what a
/// trial that failed half-way left. Pure: the engine observes, this decides, the executor walks the result.
public struct RevertPlanner {
    public let before: ObservedState
    public let now: ObservedState
    /// The plan the trial applied.
    public let tried: Plan

    public init(before: ObservedState, now: ObservedState, tried: Plan) {
        self.before = before
        self.now = now
        self.tried = tried
    }

    /// What it takes to make `link` again, from what the kernel reports of it: nil for kinds mooring does not
    /// make, and when a link it is built on is not here.
    private static func remade(_ link: ObservedLink) -> LinkConfig? {
        guard let config = link.kind.config, config.kind.references.allSatisfy({ !$0.link.isEmpty }) else { return nil }
        return config
    }

    /// The tried plan's changes a revert cannot undo, one line each: `apply --try` refuses such a plan before
    /// changing anything, because its promise is to put the host back.
    public static func irreversible(_ plan: Plan, before: ObservedState) -> [String] {
        var problems: [String] = []
        for change in plan.changes {
            switch change.operation {
            case let .stopUnit(name, _):
                problems.append("\(change.summary): mooring keeps no copy of a unit it stops (\(name)), so it could not start it again")
            case let .restartUnit(spec):
                problems.append("\(change.summary): the unit \(spec.name) as it ran before is not kept, so it could not be brought back")
            case let .deleteLink(name):
                if let link = before.link(named: name), Self.remade(link) == nil {
                    problems.append("\(change.summary): a \(link.kind.name) cannot be made again from what the kernel reports of it")
                }
            case .replaceNftTable, .deleteNftTable:
                if let others = before.nftables?.others, !others.isEmpty {
                    problems.append("\(change.summary): the table holds objects mooring does not make (\(others.joined(separator: ", "))), which it could not put back")
                }
            default:
                break
            }
        }
        return problems
    }

    public func plan() -> Plan {
        var changes: [Change] = []
        func add(_ resource: ResourceID, _ verb: Change.Verb, _ summary: String, _ operation: Action, _ phase: Phase) {
            changes.append(Change(resource: resource, group: .stale, action: verb, summary: summary,
                                  reason: .undoingTrial, operation: operation, phase: phase))
        }
        // Units the trial started go first, before the devices they hold.
        for change in tried.changes {
            guard case let .startUnit(spec) = change.operation, now.units.contains(where: { $0.name == spec.name && $0.activeState != "inactive" }),
                  !before.units.contains(where: { $0.name == spec.name && $0.activeState == "active" }) else { continue }
            add(.unit(spec.name), .stop, "stop \(spec.name) (started by the trial)", .stopUnit(name: spec.name, runDirectory: spec.runDirectory), .stopUnits)
        }
        let touched = touchedLinks()
        let beforeLinks = before.linksByName, nowLinks = now.linksByName
        // Links the trial made go; links it deleted come back, parents before children.
        for name in touched {
            guard beforeLinks[name] == nil, let link = nowLinks[name], link.isOwnedByMooring else { continue }
            add(.link(name), .delete, "delete \(link.kind.name) \(name) (made by the trial)", .deleteLink(name: name), link.kind.deletePhase)
        }
        var kept: Set<String> = []
        for name in touched {
            guard let link = beforeLinks[name] else { continue }
            if nowLinks[name] == nil {
                guard let config = Self.remade(link) else { continue }
                let master = link.masterIndex.flatMap { before.link(index: $0)?.name }
                let phase = Phase(creating: config.kind.role)
                add(.link(name), .create, "create \(link.kind.name) \(name) again (deleted by the trial)",
                    .createLink(name: name, alias: link.alias ?? "", master: master, mtu: link.mtu, config: config), phase)
                if link.isUp { add(.link(name), .update, "set \(name) up", .setUp(link: name), phase) }
            }
            kept.insert(name)
        }
        for name in touched.filter(kept.contains) {
            restore(name, add: add)
        }
        restoreSysctls(keptLinks: kept, add: add)
        for change in tried.changes {
            guard case let .setNameservers(link, _) = change.operation, before.link(named: link) != nil else { continue }
            let was = before.nameservers[link] ?? Nameservers()
            if was != now.nameservers[link] ?? Nameservers() {
                add(.link(link), .update, "\(link): DNS \(was.text) again", .setNameservers(link: link, nameservers: was), .linkNameservers)
            }
        }
        restoreTable(add: add)
        // Execution order: by phase, keeping the order above within one.
        let ordered = changes.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }.map(\.element)
        return Plan(changes: ordered)
    }

    /// Every link the tried plan names, and the masters its ports had before or have now.
    private func touchedLinks() -> [String] {
        var names: [String] = []
        var seen: Set<String> = []
        func note(_ name: String?) {
            if let name, seen.insert(name).inserted { names.append(name) }
        }
        for change in tried.changes {
            note(change.operation.linkName)
            if case let .createLink(_, _, master, _, _) = change.operation { note(master) }
            if case let .setMaster(link, master) = change.operation {
                note(master)
                note(before.link(named: link)?.masterIndex.flatMap { before.link(index: $0)?.name })
            }
        }
        return names
    }

    /// One link that exists before and after: its master, MTU, MAC, addresses and routes as they were.
    private func restore(_ name: String, add: (ResourceID, Change.Verb, String, Action, Phase) -> Void) {
        guard let was = before.link(named: name) else { return }
        let current = now.link(named: name)
        let wasMaster = was.masterIndex.flatMap { before.link(index: $0)?.name }
        let master = current?.masterIndex.flatMap { now.link(index: $0)?.name }
        if current != nil, wasMaster != master {
            add(.link(name), .update, "\(name): master \(wasMaster ?? "none") again", .setMaster(link: name, master: wasMaster), .hostPorts)
        }
        if let current, let isolated = was.isolated, current.isolated != nil, current.isolated != isolated {
            add(.link(name), .update, "\(name): port isolation \(isolated ? "on" : "off") again", .setPortIsolation(link: name, isolated: isolated), .bridgePorts)
        }
        if let current, was.learning != nil, current.learning != nil,
           was.learning != current.learning || was.unicastFlood != current.unicastFlood {
            let on = was.learning == true || was.unicastFlood == true
            add(.link(name), .update, "\(name): learning and unicast flooding \(on ? "on" : "off") again", .setPortLearning(link: name, learning: on), .bridgePorts)
        }
        // Static entries: only those of ports with learning off were read (before or now); put back as they were.
        if let current, was.learning == false || current.learning == false {
            for mac in current.staticFDB where !was.staticFDB.contains(mac) {
                add(.link(name), .update, "\(name): delete static fdb entry \(mac) (made by the trial)", .deleteStaticFDB(link: name, mac: mac), .bridgePorts)
            }
            for mac in was.staticFDB where !current.staticFDB.contains(mac) {
                add(.link(name), .update, "\(name): static fdb entry \(mac) again", .addStaticFDB(link: name, mac: mac), .bridgePorts)
            }
        }
        if let current, current.mtu != was.mtu {
            add(.link(name), .update, "\(name): mtu \(was.mtu) again", .setMTU(link: name, mtu: was.mtu), .updateBridges)
        }
        if let current, let mac = was.mac, current.mac != mac, was.isOwnedByMooring {
            add(.link(name), .update, "\(name): mac \(mac) again", .setMAC(link: name, mac: mac), .updateBridges)
        }
        let addresses = current?.addresses ?? []
        for address in addresses where !was.addresses.contains(address) {
            add(.link(name), .update, "\(name): remove address \(address)", .removeAddress(link: name, address: address), .removeAddresses)
        }
        for address in was.addresses where !addresses.contains(address) {
            add(.link(name), .update, "\(name): add address \(address) again", .addAddress(link: name, address: address), .addAddresses)
        }
        // The kernel's own prefix routes come back with their addresses; the others are put back as they were,
        // with the protocol they had (a host's default route stays the host's, not mooring's).
        let routes = current?.routes ?? []
        for route in routes where route.isMooring && !was.routes.contains(route) {
            add(.link(name), .update, "\(name): delete route \(route.asDesired.text)", .deleteRoute(link: name, route: route.asDesired), .routes)
        }
        for route in was.routes where route.protocolNumber != ObservedRoute.kernelProtocol && !routes.contains(route) {
            add(.link(name), .update, "\(name): add route \(route.asDesired.text) again", .addRoute(link: name, route: route.asDesired), .routes)
        }
    }

    /// Sysctls the trial set, back to their values before (those of links that are gone went with them).
    private func restoreSysctls(keptLinks: Set<String>, add: (ResourceID, Change.Verb, String, Action, Phase) -> Void) {
        for change in tried.changes {
            guard case let .setSysctl(name, _) = change.operation, let value = before.sysctls[name], now.sysctls[name] != value else { continue }
            if let link = DesiredBridge.linkOfSysctl(name), !keptLinks.contains(link) { continue }
            add(.sysctl(name), .update, "set \(name) = \(value) again", .setSysctl(name: name, value: value), change.phase)
        }
    }

    /// mooring's tables as they were, or gone when there were none: `inet mooring` and the guests' filter.
    private func restoreTable(add: (ResourceID, Change.Verb, String, Action, Phase) -> Void) {
        func touched(_ matches: (Action) -> Bool) -> Bool { tried.changes.contains { matches($0.operation) } }
        if touched({ if case .replaceNftTable = $0 { true } else if case .deleteNftTable = $0 { true } else { false } }),
           before.nftables?.normalized() != now.nftables?.normalized() {
            if let table = before.nftables {
                add(.nftTable, .replace, "put table inet mooring back as it was", .replaceNftTable(table), .nftables)
            } else if now.nftables != nil {
                add(.nftTable, .delete, "delete table inet mooring (made by the trial)", .deleteNftTable, .nftables)
            }
        }
        let filterTouched = touched { if case .replaceGuestFilter = $0 { true } else if case .deleteGuestFilter = $0 { true } else { false } }
        let filters: [(ResourceID, String, NftTable?, NftTable?, Phase)] = [
            (.guestFilter, NftTable.bridgeFamily, before.guestFilter, now.guestFilter, .nftables),
            (.macvtapFilter, NftTable.netdevFamily, before.macvtapFilter, now.macvtapFilter, .deviceFilters),
        ]
        for (resource, family, was, current, phase) in filters where filterTouched && was?.normalized() != current?.normalized() {
            if let was {
                add(resource, .replace, "put table \(family) mooring back as it was", .replaceGuestFilter(GuestFilterPlanner.withDevices(was)), phase)
            } else if current != nil {
                add(resource, .delete, "delete table \(family) mooring (made by the trial)", .deleteGuestFilter(family: family), phase)
            }
        }
    }
}
