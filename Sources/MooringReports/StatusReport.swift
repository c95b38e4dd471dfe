import MooringModel
import MooringPlan

/// What mooring owns on the host right now and whether each object matches the manifests.
public struct StatusReport: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        /// `link`, `nftables`, `unit`.
        public var kind: String
        public var name: String
        /// `in sync`, `differs`, `missing`, `stale` (owned but no longer wanted).
        public var state: String
        public var detail: String
        /// What would change, from the plan.
        public var changes: [String]
    }

    public var rows: [Row]
    public var inSync: Bool

    public init(observed: ObservedState, plan: Plan) {
        var byResource: [ResourceID: [Change]] = [:]
        for change in plan.changes { byResource[change.resource, default: []].append(change) }
        func state(_ resource: ResourceID) -> (String, [String]) {
            guard let changes = byResource[resource] else { return ("in sync", []) }
            let verbs = Set(changes.map(\.action))
            let label = verbs.contains(.delete) || verbs.contains(.stop) ? "stale"
                : verbs.contains(.create) || verbs.contains(.start) ? "missing" : "differs"
            return (label, changes.map(\.summary))
        }
        let linksByIndex = observed.linksByIndex
        var rows: [Row] = []
        // A bridge's host ports are not mooring's objects, but a detached or extra port is the bridge's drift.
        let portChanges = plan.changes.filter { $0.phase == .hostPorts }
        for link in observed.links where link.isOwnedByMooring {
            var (label, changes) = state(.link(link.name))
            let ports = portChanges.filter { $0.group.reference != nil && $0.group.reference == link.owner }
            if !ports.isEmpty {
                if label == "in sync" { label = "differs" }
                changes += ports.map(\.summary)
            }
            var detail = "\(link.kind.name), \(link.isUp ? "up" : "down")"
            if let master = link.masterIndex.flatMap({ linksByIndex[$0]?.name }) { detail += ", master \(master)" }
            if !link.addresses.isEmpty { detail += ", " + link.addresses.map(\.description).joined(separator: " ") }
            if let owner = link.owner { detail += " (\(owner))" }
            rows.append(Row(kind: "link", name: link.name, state: label, detail: detail, changes: changes))
        }
        if let table = observed.nftables {
            let (label, changes) = state(.nftTable)
            rows.append(Row(kind: "nftables", name: "inet mooring", state: label,
                            detail: "\(table.rules.count) rules, \(table.maps.reduce(0) { $0 + $1.elements.count }) map elements",
                            changes: changes))
        }
        // The guests' filters, as the plan names them.
        for (table, resource) in [(observed.guestFilter, ResourceID.guestFilter), (observed.macvtapFilter, ResourceID.macvtapFilter)] {
            guard let table else { continue }
            let (label, changes) = state(resource)
            let ports = table.sets.first { $0.name == "guest_ports" }?.elements.count ?? 0
            rows.append(Row(kind: resource.kind, name: resource.name, state: label,
                            detail: "\(ports) guest interface\(ports == 1 ? "" : "s"), \(table.rules.count) rules", changes: changes))
        }
        for unit in observed.units + observed.bridgeServices {
            let (label, changes) = state(.unit(unit.name))
            var detail = "\(unit.activeState)/\(unit.subState)"
            if unit.mainPID != 0 { detail += ", pid \(unit.mainPID)" }
            detail += ", \(unit.restarts) restart\(unit.restarts == 1 ? "" : "s")"
            // A failed VMM: systemd's account and its last words, as the plan shows them.
            if let failure = unit.failure { detail += "; last run: \(failure)" }
            if let last = unit.lastOutput.last { detail += "; last output: \(last)" }
            rows.append(Row(kind: "unit", name: unit.name, state: label, detail: detail, changes: changes))
        }
        // The images the manifests name: what the host has under each reference, and what its registry says now.
        for image in (observed.imageStore?.images.values.sorted { $0.reference < $1.reference }) ?? [] {
            let (label, changes) = state(.image(image.reference))
            var detail: String
            switch image.local {
            case let .pulled(digest): detail = "cached \(digest)"
            case .unpackedByHand: detail = "unpacked by hand"
            case .absent: detail = "not here"
            case let .foreign(what): detail = "in the way: \(what)"
            }
            if let remote = image.remoteDigest, image.local != .pulled(digest: remote) { detail += "; the registry has \(remote)" }
            if let problem = image.remoteProblem { detail += "; the registry did not answer: \(problem)" }
            rows.append(Row(kind: "image", name: image.reference, state: label, detail: detail, changes: changes))
        }
        // What the manifests want but the host lacks entirely.
        let present = Set(rows.map { "\($0.kind)/\($0.name)" })
        for (resource, changes) in byResource.sorted(by: { $0.key < $1.key }) where !present.contains(resource.description) {
            guard changes.contains(where: { $0.action == .create || $0.action == .start }) else { continue }
            rows.append(Row(kind: resource.kind, name: resource.name, state: "missing", detail: "", changes: changes.map(\.summary)))
        }
        self.rows = rows
        inSync = plan.isInSync
    }

    public var json: JSONValue {
        ["inSync": .bool(inSync), "rows": .array(rows.map {
            ["kind": .string($0.kind), "name": .string($0.name), "state": .string($0.state), "detail": .string($0.detail),
             "changes": .array($0.changes.map(JSONValue.string))]
        })]
    }

    public func text() -> String {
        let headers = ["KIND", "NAME", "STATE", "DETAIL"]
        let table = rows.map { [$0.kind, $0.name, $0.state, $0.detail] }
        let widths = (0..<3).map { column in ([headers[column]] + table.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            (0..<3).map { cells[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + cells[3]
        }
        var lines = [line(headers)] + table.map(line)
        if rows.isEmpty { lines.append("(mooring owns nothing here)") }
        lines.append(inSync ? "All objects match the manifests." : "Drift: run `mooring plan` for the details.")
        return lines.joined(separator: "\n") + "\n"
    }
}
