import MooringModel
import MooringPlan

/// Diffs the links and addresses mooring should own against the kernel's, field by field.
struct LinkPlanner {
    let desired: DesiredState
    let observed: ObservedState
    /// MicroVMs (by name) whose unit is running now: recreating their devices interrupts them.
    let runningMicroVMs: Set<String>
    private var changes: [Change] = []
    private var conflicts: [Conflict] = []
    /// MicroVMs whose devices this plan deletes and recreates; their VMM must restart to use the new ones.
    private(set) var recreatedMicroVMs: Set<String> = []

    private let byName: LinkLookup<String>
    private let byIndex: LinkLookup<Int>
    /// Only these links are compared (a watch round about them); nil: all. Host ports are always checked.
    private let scope: Set<String>?

    /// What the manifests make, for this observation's VMM identity (the Planner checks it fits).
    private let desiredLinks: DesiredLinks

    init(desired: DesiredState, observed: ObservedState, runningMicroVMs: Set<String>, scope: Set<String>? = nil,
         desiredLinks: DesiredLinks) {
        self.desired = desired
        self.desiredLinks = desiredLinks
        self.observed = observed
        self.runningMicroVMs = runningMicroVMs
        self.scope = scope
        byName = observed.linksByName
        byIndex = observed.linksByIndex
    }

    /// Unowned links used as they are, and routes an uplink move drops, for the plan's warnings.
    private(set) var adopted: [String] = []
    /// Host ports whose addresses move to their bridge in this plan.
    private(set) var movingPorts: Set<String> = []

    mutating func plan() -> (changes: [Change], conflicts: [Conflict], recreated: Set<String>) {
        let specs = desiredLinks.specs, wanted = desiredLinks.names
        let compared = scope.map { scope in specs.filter { scope.contains($0.name) } } ?? specs
        deleteStale(keeping: wanted)
        checkAddressOwners(compared)
        for spec in compared { plan(spec, creatable: wanted) }
        planHostPorts()
        return (changes, conflicts, recreatedMicroVMs)
    }

    private func name(ofIndex index: Int?) -> String? { index.flatMap { byIndex[$0]?.name } }

    // MARK: Addresses held elsewhere

    /// An address the manifests give one link but another link mooring does not own already has: adding it
    /// again would make two links answer for it.
    private mutating func checkAddressOwners(_ specs: [LinkSpec]) {
        var holders: [IPAddress: String] = [:]
        for link in observed.links where !link.isOwnedByMooring {
            for address in link.addresses { holders[address.address] = link.name }
        }
        // A bridge's own host port may hold it: that address moves to the bridge (moveUplinkAddresses).
        let portsOf = Dictionary(desired.bridges.map { ($0.name, Set($0.ports)) }, uniquingKeysWith: { first, _ in first })
        for spec in specs {
            for address in spec.addresses {
                guard let holder = holders[address.address], holder != spec.name, portsOf[spec.name]?.contains(holder) != true else { continue }
                conflicts.append(Conflict(resource: .link(spec.name), group: spec.group,
                                          message: "address \(address.address) for \(spec.label) is already on \(holder), which mooring does not own",
                                          fix: "remove it there (ip addr del \(address) dev \(holder)) or choose another address"))
            }
        }
    }

    // MARK: Stale links

    private mutating func deleteStale(keeping wanted: Set<String>) {
        for link in observed.links where link.isOwnedByMooring && !wanted.contains(link.name) && scope?.contains(link.name) != false {
            let reason: ChangeReason = link.owner == nil ? .leftUnmarked : .noLongerInManifests
            let why = link.owner == nil ? "left unmarked by an interrupted run" : "no longer in manifests"
            changes.append(Change(resource: .link(link.name), group: .stale, action: .delete,
                                  summary: "delete \(link.kind.name) \(link.name) (\(why))", reason: reason,
                                  fields: [FieldChange("owner", before: JSONValue(link.owner), after: .null)],
                                  operation: .deleteLink(name: link.name), phase: link.kind.deletePhase))
        }
    }

    // MARK: Desired links

    private mutating func plan(_ spec: LinkSpec, creatable: Set<String>) {
        guard checkReferences(spec, creatable: creatable) else { return }
        guard let link = byName[spec.name] else {
            create(spec, reason: .declared(spec.group), replacing: nil)
            return
        }
        if !link.isOwnedByMooring {
            // A bridge's MAC is one mooring derives for the bridges it makes, not a declared setting: an unowned
            // bridge keeps its own.
            let differences = (kindDifferences(spec, link) + settingDifferences(spec, link))
                .filter { !(spec.isBridge && $0.field.field == "mac") }.map(\.text)
            if differences.isEmpty {
                // An unowned link that already matches exactly is used as is: said in every plan, so it is no
                // surprise that mooring never marks, changes or deletes it.
                adopted.append("\(link.kind.name) \(spec.name) is not mooring's (no \"\(DeviceNaming.aliasPrefix)\" alias) but matches "
                               + "\(spec.label): adopted as is; mooring uses it and will never change or delete it")
                return
            }
            conflicts.append(Conflict(
                resource: .link(spec.name), group: spec.group,
                message: "\(link.kind.name) \(spec.name) exists but mooring does not own it (its alias has no \"\(DeviceNaming.aliasPrefix)\" mark) and it differs from \(spec.label): \(differences.joined(separator: ", "))",
                fix: "rename or delete it (ip link del \(spec.name)), or, if it is a host interface, list it under a Bridge's spec.ports instead of declaring it"))
            return
        }
        let kindChange = kindDifferences(spec, link)
        if !kindChange.isEmpty {
            let why = kindChange.map(\.text).joined(separator: ", ")
            changes.append(Change(resource: .link(spec.name), group: spec.group, action: .replace,
                                  summary: "delete \(link.kind.name) \(spec.name) (\(spec.label)) to recreate it: \(why)",
                                  reason: .cannotChangeInPlace(why), fields: kindChange.map(\.field), disruptive: true,
                                  operation: .deleteLink(name: spec.name), phase: link.kind.deletePhase))
            create(spec, reason: .recreated(why), replacing: link)
            return
        }
        updateInPlace(spec, link)
    }

    /// Parents, underlay devices and kernel support must be there for the link to be created.
    private mutating func checkReferences(_ spec: LinkSpec, creatable: Set<String>) -> Bool {
        if let (message, fix) = spec.config.kind.unsupported(on: observed.capabilities) {
            conflicts.append(Conflict(resource: .link(spec.name), group: spec.group, message: "\(message) for \(spec.label)", fix: fix))
            return false
        }
        // Predict what the kernel will refuse: a port MTU that does not fit, found now rather than half-way
        // through an apply (the bridge already changed, the port refusing).
        if let mtu = spec.mtu, let (largest, why) = spec.config.kind.largestMTU(links: byName), mtu > largest {
            conflicts.append(Conflict(resource: .link(spec.name), group: spec.group,
                                      message: "\(spec.group) spec.mtu \(mtu) does not fit \(spec.label): \(why); the largest valid spec.mtu is \(largest)",
                                      fix: "set spec.mtu to \(largest) or less, or raise the underlay's MTU by \(mtu - largest)"))
            return false
        }
        var missing = spec.config.kind.references
        if let master = spec.master { missing.append((master, "bridge")) }
        for (name, role) in missing where byName[name] == nil && !creatable.contains(name) {
            conflicts.append(Conflict(resource: .link(spec.name), group: spec.group,
                                      message: "\(role) \"\(name)\" of \(spec.label) does not exist on this host",
                                      fix: "create it, fix the name in the manifest, or declare it as a Bridge"))
            return false
        }
        return true
    }

    /// What cannot change without recreating the link: its kind, and the kind's fixed fields.
    private func kindDifferences(_ spec: LinkSpec, _ link: ObservedLink) -> [LinkDifference] {
        link.kind.config.flatMap(spec.config.fixedDifferences(from:))?.map { LinkDifference($0.field, $0.before, $0.after, $0.text) }
            ?? [LinkDifference("kind", .string(link.kind.name), .string(spec.kindName), "kind \(link.kind.name) -> \(spec.kindName)")]
    }

    /// Settings that can change in place, each with the action that changes it. The one diff of a link's
    /// settings: the conflict message for an unowned link and the updates of an owned one both read it.
    private func settingDifferences(_ spec: LinkSpec, _ link: ObservedLink) -> [LinkDifference] {
        var out: [LinkDifference] = []
        if let mtu = spec.mtu, link.mtu != mtu {
            let operation: Action = spec.isBridge ? .pinBridgeMTU(link: spec.name, mtu: mtu) : .setMTU(link: spec.name, mtu: mtu)
            out.append(LinkDifference("mtu", JSONValue(link.mtu), JSONValue(mtu), "mtu \(link.mtu) -> \(mtu)",
                                      set: operation, summary: "set mtu \(mtu)", reason: .differs(field: "mtu", from: spec.group)))
        }
        if let mac = spec.mac, link.mac != mac {
            // A bridge with the MAC its name alone gives was made before MACs were per host: changed once.
            let perHost = spec.isBridge && link.mac == DeviceNaming.bridgeMAC(spec.name)
            out.append(LinkDifference("mac", JSONValue(link.mac?.description), .string(mac.description),
                                      "mac \(link.mac?.description ?? "none") -> \(mac)\(perHost ? " (new per-host MAC)" : "")",
                                      set: .setMAC(link: spec.name, mac: mac),
                                      summary: "set mac \(mac)\(perHost ? " (new per-host MAC)" : "")",
                                      reason: perHost ? .perHostBridgeMAC : .differs(field: "mac", from: nil)))
        }
        let master = name(ofIndex: link.masterIndex)
        if master != spec.master {
            out.append(LinkDifference("master", JSONValue(master), JSONValue(spec.master),
                                      "master \(master ?? "none") -> \(spec.master ?? "none")",
                                      set: .setMaster(link: spec.name, master: spec.master),
                                      summary: spec.master.map { "set master \($0)" } ?? "release from \(master ?? "?")",
                                      reason: .notAttachedToItsBridge))
        }
        // Compared once the link is the right bridge's port (a port just enslaved starts not isolated).
        if let isolated = spec.isolated, master == spec.master, (link.isolated ?? false) != isolated {
            out.append(LinkDifference("isolated", .bool(link.isolated ?? false), .bool(isolated),
                                      "isolated \(link.isolated == true ? "on" : "off") -> \(isolated ? "on" : "off")",
                                      set: .setPortIsolation(link: spec.name, isolated: isolated),
                                      summary: "set port isolation \(isolated ? "on" : "off")", reason: .setting("spec.networkInterfaces isolated", value: "\(isolated)")))
        } else if let isolated = spec.isolated, isolated, master != spec.master {
            out.append(LinkDifference("isolated", .bool(false), true, "isolated off -> on",
                                      set: .setPortIsolation(link: spec.name, isolated: true),
                                      summary: "set port isolation on", reason: .setting("spec.networkInterfaces isolated", value: "true")))
        }
        out += learningDifferences(spec, link, onItsBridge: master == spec.master)
        if !link.isUp {
            out.append(LinkDifference("up", false, true, "down -> up", set: .setUp(link: spec.name), summary: "set up",
                                      reason: .linkDown))
        }
        let (add, remove) = addressDifference(spec, link)
        out += add.map { address in
            LinkDifference("addresses", .null, .string(address.description), "missing address \(address)",
                           set: .addAddress(link: spec.name, address: address), summary: "add address \(address)",
                           reason: .declared(spec.group), phase: .addAddresses)
        }
        out += remove.map { address in
            LinkDifference("addresses", .string(address.description), .null, "extra address \(address)",
                           set: .removeAddress(link: spec.name, address: address), summary: "remove address \(address)",
                           reason: .notDeclared(spec.group), phase: .removeAddresses)
        }
        return out
    }

    /// A port with `learning: false`: learning and unknown-unicast flooding off, and the guest's MAC as a static
    /// forwarding entry. Back on: both on, and the static entry mooring made goes.
    private func learningDifferences(_ spec: LinkSpec, _ link: ObservedLink, onItsBridge: Bool) -> [LinkDifference] {
        guard let learning = spec.learning, let mac = spec.guestMAC else { return [] }
        // A port about to be enslaved starts with learning and flooding on and no static entry.
        let isOn = onItsBridge ? (link.learning ?? true) || (link.unicastFlood ?? true) : true
        let entries = onItsBridge ? link.staticFDB : []
        var out: [LinkDifference] = []
        if isOn != learning {
            out.append(LinkDifference("learning", .bool(isOn), .bool(learning), "learning \(isOn ? "on" : "off") -> \(learning ? "on" : "off")",
                                      set: .setPortLearning(link: spec.name, learning: learning),
                                      summary: "set learning and unicast flooding \(learning ? "on" : "off")",
                                      reason: .setting("spec.networkInterfaces learning", value: "\(learning)")))
        }
        if !learning, !entries.contains(mac) {
            out.append(LinkDifference("staticFDB", .null, .string(mac.description), "missing static fdb entry \(mac)",
                                      set: .addStaticFDB(link: spec.name, mac: mac), summary: "add static fdb entry \(mac)",
                                      reason: .guestMACInPlaceOfLearning))
        } else if learning, entries.contains(mac) {
            out.append(LinkDifference("staticFDB", .string(mac.description), .null, "static fdb entry \(mac) no longer needed",
                                      set: .deleteStaticFDB(link: spec.name, mac: mac), summary: "delete static fdb entry \(mac)",
                                      reason: .setting("spec.networkInterfaces learning", value: "true")))
        }
        return out
    }

    private func addressDifference(_ spec: LinkSpec, _ link: ObservedLink) -> (add: [CIDR], remove: [CIDR]) {
        let have = Set(link.addresses)
        let want = Set(spec.addresses)
        return (spec.addresses.filter { !have.contains($0) }, link.addresses.filter { !want.contains($0) }.sorted())
    }

    // MARK: Create

    private mutating func create(_ spec: LinkSpec, reason: ChangeReason, replacing old: ObservedLink?) {
        let operation = Action.createLink(name: spec.name, alias: spec.alias, master: spec.master, mtu: spec.mtu, config: spec.config)
        var details = spec.config.kind.summary
        if let master = spec.master { details += " master \(master)" }
        if let mtu = spec.mtu { details += " mtu \(mtu)" }
        // A running VMM holds the device it opened; a new one (recreated, or replacing one deleted by hand)
        // reaches the guest only after the VMM restarts.
        let vmRunning = spec.microVM.map(runningMicroVMs.contains) ?? false
        let disruptive = old != nil || vmRunning
        if (old != nil || vmRunning), let vm = spec.microVM { recreatedMicroVMs.insert(vm) }
        var fields = [FieldChange("kind", before: old.map { .string($0.kind.name) } ?? .null, after: .string(spec.kindName))]
        if let master = spec.master { fields.append(FieldChange("master", before: .null, after: .string(master))) }
        if let mtu = spec.mtu { fields.append(FieldChange("mtu", before: .null, after: JSONValue(mtu))) }
        changes.append(Change(resource: .link(spec.name), group: spec.group, action: old == nil ? .create : .replace,
                              summary: "create \(spec.kindName) \(spec.name) (\(spec.label))\(details)", reason: reason,
                              fields: fields, disruptive: disruptive, operation: operation, phase: spec.phase))
        if spec.isolated == true {
            changes.append(Change(resource: .link(spec.name), group: spec.group, action: .update,
                                  summary: "\(spec.kindName) \(spec.name): set port isolation on", reason: .setting("spec.networkInterfaces isolated", value: "true"),
                                  fields: [FieldChange("isolated", before: .null, after: true)],
                                  operation: .setPortIsolation(link: spec.name, isolated: true), phase: spec.phase))
        }
        if spec.learning == false, let mac = spec.guestMAC {
            changes.append(Change(resource: .link(spec.name), group: spec.group, action: .update,
                                  summary: "\(spec.kindName) \(spec.name): set learning and unicast flooding off", reason: .setting("spec.networkInterfaces learning", value: "false"),
                                  fields: [FieldChange("learning", before: .null, after: false)],
                                  operation: .setPortLearning(link: spec.name, learning: false), phase: spec.phase))
            changes.append(Change(resource: .link(spec.name), group: spec.group, action: .update,
                                  summary: "\(spec.kindName) \(spec.name): add static fdb entry \(mac)", reason: .guestMACInPlaceOfLearning,
                                  fields: [FieldChange("staticFDB", before: .null, after: .string(mac.description))],
                                  operation: .addStaticFDB(link: spec.name, mac: mac), phase: spec.phase))
        }
        for address in spec.addresses {
            changes.append(Change(resource: .link(spec.name), group: spec.group, action: .update,
                                  summary: "\(spec.kindName) \(spec.name): add address \(address)", reason: .declared(spec.group),
                                  fields: [FieldChange("addresses", before: .null, after: .string(address.description))],
                                  operation: .addAddress(link: spec.name, address: address), phase: .addAddresses))
        }
    }

    // MARK: Update in place

    /// The bridge's current ports this plan deletes or moves to another master, for humans, when an unpinned
    /// bridge would then follow the ports that stay to another MTU than `declaredMTU`; nil otherwise.
    private func portsLeaving(_ bridge: ObservedLink, declaredMTU: Int) -> [String]? {
        let wantedMasters = Dictionary(desiredLinks.specs.map { ($0.name, $0.master) }, uniquingKeysWith: { first, _ in first })
        let ports = observed.links.filter { $0.masterIndex == bridge.index }
        let leaving = ports.filter { port in
            guard let wanted = wantedMasters[port.name] else { return port.isOwnedByMooring }  // stale: deleted
            return wanted != bridge.name
        }
        guard !leaving.isEmpty else { return nil }
        // The kernel's rule for a bridge that follows its ports: the smallest port MTU, 1500 without ports.
        // Ports joining in this plan take the declared MTU, so they never lower it.
        let staying = ports.filter { port in !leaving.contains { $0.name == port.name } }.map(\.mtu)
        let joining = wantedMasters.contains { $0.value == bridge.name && !ports.map(\.name).contains($0.key) }
        let followed = (staying + (joining ? [declaredMTU] : [])).min() ?? 1500
        guard followed != declaredMTU else { return nil }
        return leaving.map(\.name).sorted()
    }

    private mutating func updateInPlace(_ spec: LinkSpec, _ link: ObservedLink) {
        func update(_ what: String, _ operation: Action, _ fields: [FieldChange], reason: ChangeReason, phase: Phase? = nil) -> Change {
            Change(resource: .link(spec.name), group: spec.group, action: .update, summary: "\(spec.kindName) \(spec.name): \(what)",
                   reason: reason, fields: fields, operation: operation,
                   phase: phase ?? (spec.phase == .createBridges ? .updateBridges : spec.phase))
        }
        if link.alias != spec.alias {
            changes.append(update("mark as \(spec.owner)", .setAlias(link: spec.name, alias: spec.alias),
                                  [FieldChange("alias", before: JSONValue(link.alias), after: .string(spec.alias))],
                                  reason: .ownerChanged))
        }
        if let mtu = spec.mtu, link.mtu == mtu, spec.isBridge, let leaving = portsLeaving(link, declaredMTU: mtu) {
            // The bridge may be at its MTU only by following its ports (it was created without one); when they
            // leave it would fall to what the rest give. Whether it is pinned cannot be read back from the kernel,
            // so it is pinned again; without it the next apply could find it changed.
            changes.append(update("pin mtu \(mtu)", .pinBridgeMTU(link: spec.name, mtu: mtu),
                                  [FieldChange("mtu", before: JSONValue(mtu), after: JSONValue(mtu))],
                                  reason: .portsLeaveBridge(leaving)))
        }
        for difference in settingDifferences(spec, link) {
            guard let operation = difference.set else { continue }
            changes.append(update(difference.summary, operation, [difference.field], reason: difference.reason ?? .differs(field: difference.field.field, from: spec.group), phase: difference.phase))
        }
    }

    // MARK: Host ports

    /// Host interfaces listed as ports are enslaved and brought up, never created, deleted or renamed.
    private mutating func planHostPorts() {
        for bridge in desired.bridges {
            for port in bridge.ports {
                guard let link = byName[port] else {
                    conflicts.append(Conflict(resource: .link(port), group: ChangeGroup(bridge.origin),
                                              message: "host interface \"\(port)\" (Bridge \(bridge.name) spec.ports) does not exist",
                                              fix: "create it or remove it from spec.ports"))
                    continue
                }
                if link.owner != nil {
                    conflicts.append(Conflict(resource: .link(port), group: ChangeGroup(bridge.origin),
                                              message: "\"\(port)\" is a device mooring created for \(link.owner!), not a host interface",
                                              fix: "remove it from Bridge \(bridge.name) spec.ports"))
                    continue
                }
                let master = name(ofIndex: link.masterIndex)
                let group = ChangeGroup(bridge.origin)
                if master != bridge.name {
                    changes.append(Change(resource: .link(port), group: group, action: .update,
                                          summary: "port \(port): enslave to bridge \(bridge.name)",
                                          reason: .listedAsPort(group),
                                          fields: [FieldChange("master", before: JSONValue(master), after: .string(bridge.name))],
                                          operation: .setMaster(link: port, master: bridge.name), phase: .hostPorts))
                }
                if !link.isUp {
                    changes.append(Change(resource: .link(port), group: group, action: .update,
                                          summary: "port \(port): set up", reason: .bridgePortMustBeUp,
                                          fields: [FieldChange("up", before: false, after: true)],
                                          operation: .setUp(link: port), phase: .hostPorts))
                }
            }
            moveUplinkAddresses(of: bridge)
            releaseUndeclaredPorts(of: bridge)
        }
    }

    /// The seeds' simple network: the host's uplink goes into the bridge, and the addresses it carries that the
    /// bridge declares move with it. The bridge gets them first (addAddresses), then the port loses them and its
    /// routes (moveUplinkAddresses), then the bridge's routes go in (routes): one netlink send, so the host is cut
    /// off for milliseconds, not for good. The port's routes are deleted by name: the kernel drops IPv4 ones with
    /// their address but keeps IPv6 ones, which would send traffic out of a port that no longer delivers to the
    /// host (and block the bridge's own route with the same key). Routes the bridge does not declare again are
    /// warned about.
    private mutating func moveUplinkAddresses(of bridge: DesiredBridge) {
        let group = ChangeGroup(bridge.origin)
        for port in bridge.ports {
            guard let link = byName[port], !link.isOwnedByMooring else { continue }
            let moving = link.addresses.filter { bridge.addresses.contains($0) }
            guard !moving.isEmpty else { continue }
            movingPorts.insert(port)
            for address in moving {
                changes.append(Change(resource: .link(port), group: group, action: .update,
                                      summary: "port \(port): move address \(address) to bridge \(bridge.name)",
                                      reason: .portAddressMovesToBridge(group, address: address.description, port: port),
                                      fields: [FieldChange("addresses", before: .string(address.description), after: .null)],
                                      disruptive: true,
                                      operation: .removeAddress(link: port, address: address), phase: .moveUplinkAddresses))
            }
            let routes = link.routes.filter { $0.protocolNumber != ObservedRoute.kernelProtocol && $0.table == DesiredRoute.mainTable }
            for route in routes {
                let declared = bridge.routes.contains { route.sameKey(as: $0) }
                changes.append(Change(resource: .link(port), group: group, action: .update,
                                      summary: "port \(port): delete route \(route.asDesired.text)"
                                          + (declared ? " (bridge \(bridge.name) takes it over)" : " (it leaves with the port's addresses)"),
                                      reason: .portRoutesStranded(port: port, bridge: bridge.name),
                                      fields: [FieldChange("routes", before: .string(route.asDesired.text), after: .null)],
                                      disruptive: true,
                                      operation: .deleteRoute(link: port, route: route.asDesired), phase: .moveUplinkAddresses))
                if !declared {
                    adopted.append("\(port)'s route \(route.asDesired.text) goes away when its addresses move to bridge \(bridge.name); "
                                   + "declare it in \(group) spec.routes (or gateways) to keep it")
                }
            }
        }
    }

    /// An owned bridge holds exactly its declared ports and mooring's own devices: any other link enslaved to
    /// it (a port removed from spec.ports, or one someone added) is released. Released only: never deleted,
    /// never taken down; it is not mooring's.
    private mutating func releaseUndeclaredPorts(of bridge: DesiredBridge) {
        guard let bridgeLink = byName[bridge.name], bridgeLink.owner == bridge.origin.reference else { return }
        let declared = Set(bridge.ports)
        // Cheapest tests first: the owner is parsed from the alias. A scoped plan (a watch round) releases only
        // the links its events named.
        for link in observed.links where link.masterIndex == bridgeLink.index && link.index < DeviceNaming.reservedIndexBase
            && scope?.contains(link.name) != false && !declared.contains(link.name) && link.owner == nil {
            let group = ChangeGroup(bridge.origin)
            changes.append(Change(resource: .link(link.name), group: group, action: .update,
                                  summary: "port \(link.name): release from bridge \(bridge.name)",
                                  reason: .notListedAsPort(group),
                                  fields: [FieldChange("master", before: .string(bridge.name), after: .null)],
                                  operation: .setMaster(link: link.name, master: nil), phase: .hostPorts))
        }
    }
}
