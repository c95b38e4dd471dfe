import MooringModel
import MooringPlan

/// mooring's routes on its bridges, and their router-advertisement setting (the host's uplink in a bridge): each declared route exists, marked with mooring's protocol number; a marked
/// route no manifest declares any more is removed. Routes others made are never touched: one with the same
/// destination, metric and table as a declared one is a conflict (the kernel would refuse the second), unless it
/// is on a host port whose addresses move to the bridge in this plan (the kernel drops it with them).
struct RoutePlanner {
    let desired: DesiredState
    let observed: ObservedState
    /// Host ports whose addresses move to their bridge in this plan.
    let movingPorts: Set<String>

    func plan() -> (changes: [Change], conflicts: [Conflict]) {
        var changes: [Change] = []
        var conflicts: [Conflict] = []
        let byName = observed.links(named: Set(desired.bridges.map(\.name)))
        for bridge in desired.bridges {
            let group = ChangeGroup(bridge.origin)
            let link = byName[bridge.name]
            // Only a bridge of mooring's: an unowned one of the same name is a conflict of its own already.
            if let link, !link.isOwnedByMooring { continue }
            let have = (link?.routes ?? []).filter(\.isMooring).map(\.asDesired)
            for route in bridge.routes where !have.contains(route) {
                let theirs = observed.links.first { other in
                    !movingPorts.contains(other.name) && other.routes.contains { !$0.isMooring && $0.sameKey(as: route) }
                }
                if let theirs, let existing = theirs.routes.first(where: { !$0.isMooring && $0.sameKey(as: route) }) {
                    // Name the route that is there, with its own gateway: with a wrong gateway in the manifest, the
                    // declared one is not what the host has.
                    let what = existing.gateway == route.gateway
                        ? "route \(existing.asDesired.text) already exists on \(theirs.name), and mooring did not make it"
                        : "the declared route \(route.text) clashes with route \(existing.asDesired.text) on \(theirs.name), which mooring did not make (same destination, metric and table)"
                    conflicts.append(Conflict(resource: .link(bridge.name), group: group,
                                              message: what,
                                              fix: "remove it (ip route del \(route.isDefault ? "default" : route.destination.description) dev \(theirs.name)), "
                                                  + "or give the declared route another metric"))
                    continue
                }
                changes.append(Change(resource: .link(bridge.name), group: group, action: .update,
                                      summary: "bridge \(bridge.name): add route \(route.text)", reason: .declared(group),
                                      fields: [FieldChange("routes", before: .null, after: .string(route.text))],
                                      operation: .addRoute(link: bridge.name, route: route), phase: .routes))
            }
            // Router advertisements: 2 accepts them even with forwarding on (a hypervisor forwards), 0 refuses.
            // A bridge that sends advertisements takes none, its own included (with accept_ra on, the bridge
            // autoconfigured an address from its own dnsmasq's RA about one run in three).
            if let acceptRA = bridge.acceptRA ?? (bridge.ipv6SendRA != nil ? false : nil) {
                let name = DesiredBridge.acceptRASysctl(bridge.name)
                let want = acceptRA ? "2" : "0"
                let current = link == nil ? nil : observed.sysctls[name]
                if current != want {
                    changes.append(Change(resource: .sysctl(name), group: group, action: .update,
                                          summary: "set \(name) = \(want)",
                                          reason: bridge.acceptRA == nil ? .setting("\(group) spec.ipv6SendRA", value: "true (a router takes no advertisements)")
                                              : .setting("\(group) spec.acceptRA", value: "\(acceptRA)"),
                                          fields: [FieldChange("value", before: JSONValue(current), after: .string(want))],
                                          operation: .setSysctl(name: name, value: want), phase: .linkSysctls))
                }
            }
            for route in have where !bridge.routes.contains(route) {
                changes.append(Change(resource: .link(bridge.name), group: group, action: .update,
                                      summary: "bridge \(bridge.name): delete route \(route.text)", reason: .notDeclared(group),
                                      fields: [FieldChange("routes", before: .string(route.text), after: .null)],
                                      operation: .deleteRoute(link: bridge.name, route: route), phase: .routes))
            }
        }
        return (changes, conflicts)
    }
}
