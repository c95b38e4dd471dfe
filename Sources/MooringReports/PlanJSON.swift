import MooringModel
import MooringPlan

/// The plan as JSON: a documented, versioned document (docs/drift-report.md, docs/schemas/output.schema.json).
/// Written field by field from the typed plan, so nothing an encoder invents (`_0`, dropped nulls) reaches it:
/// every field is always present, `null` when it has no value.
public enum PlanJSON {
    /// The plan's own fields, in the JSON envelope's order.
    public static let keys = ["context", "inSync", "summary", "changes", "conflicts", "held", "warnings", "unchecked"]

    /// What `plan --output json` prints: the envelope (JSONEnvelope) around the plan's fields.
    public static func report(_ plan: Plan, context: ReportContext?, diagnostics: [Diagnostic] = []) -> JSONValue {
        guard case let .object(fields) = body(plan, context: context) else { return .null }
        return JSONEnvelope.document(command: "plan", payload: fields, diagnostics: diagnostics)
    }

    /// The plan's fields as one object (in `apply`'s document: the plan it executed, and what remained).
    public static func body(_ plan: Plan, context: ReportContext?) -> JSONValue {
        [
            "context": context.map(Self.context) ?? .null,
            "inSync": .bool(plan.isInSync),
            "summary": summary(plan.summary),
            "changes": .array(plan.changes.map(change)),
            "conflicts": .array(plan.conflicts.map(conflict)),
            "held": .array(plan.held.map(change)),
            "warnings": .array(plan.warnings.map(JSONValue.string)),
            "unchecked": .array(plan.unchecked.map(JSONValue.string)),
        ]
    }

    /// The parts of a plan that say what it does, for a saved plan's digest: changes, conflicts, held.
    public static func substance(_ plan: Plan) -> JSONValue {
        ["changes": .array(plan.changes.map(change)), "conflicts": .array(plan.conflicts.map(conflict)),
         "held": .array(plan.held.map(change))]
    }

    public static func context(_ context: ReportContext) -> JSONValue {
        ["manifestDirectory": .string(context.manifestDirectory), "host": JSONValue(context.host),
         "netns": JSONValue(context.netns), "gitCommit": JSONValue(context.gitCommit),
         "gitDirty": context.gitDirty.map(JSONValue.bool) ?? .null, "provenanceProblem": JSONValue(context.provenanceProblem)]
    }

    public static func summary(_ summary: Plan.Summary) -> JSONValue {
        ["create": JSONValue(summary.create), "update": JSONValue(summary.update), "replace": JSONValue(summary.replace),
         "delete": JSONValue(summary.delete), "disruptive": JSONValue(summary.disruptive)]
    }

    public static func change(_ change: Change) -> JSONValue {
        [
            "resource": resource(change.resource),
            "group": group(change.group),
            "action": .string(change.action.rawValue),
            "summary": .string(change.summary),
            "reason": .string(change.reason.text),
            "reasonCode": .string(change.reason.code),
            "fields": .array(change.fields.map { ["field": .string($0.field), "before": $0.before, "after": $0.after] }),
            "disruptive": .bool(change.disruptive),
            "details": .array(change.details.map(JSONValue.string)),
            "phase": JSONValue(change.phase.rawValue),
            "operation": operation(change.operation),
        ]
    }

    public static func conflict(_ conflict: Conflict) -> JSONValue {
        ["resource": resource(conflict.resource), "group": group(conflict.group), "message": .string(conflict.message),
         "fix": .string(conflict.fix), "holds": .array(conflict.holds.map(resource))]
    }

    /// `{"kind": "link", "name": "vm-web-1-eth0"}`.
    public static func resource(_ id: ResourceID) -> JSONValue { ["kind": .string(id.kind), "name": .string(id.name)] }

    /// `{"kind": "MicroVM", "name": "web-1"}`; null for objects no single manifest wants (stale ones, and the
    /// guests' filter, which the resource names: format 3 keeps its group null).
    public static func group(_ group: ChangeGroup) -> JSONValue {
        switch group {
        case let .manifest(kind, name): return ["kind": .string(kind.rawValue), "name": .string(name)]
        case .guestFilter, .stale: return .null
        }
    }

    /// The exact step apply executes: `{"type": "createLink", "kind": "tap", "name": ..., "master": null, ...}`.
    public static func operation(_ action: Action) -> JSONValue {
        func text<T: CustomStringConvertible>(_ value: T?) -> JSONValue { value.map { .string($0.description) } ?? .null }
        var fields: [(key: String, value: JSONValue)]
        switch action {
        case let .createLink(name, alias, master, mtu, config):
            fields = [("name", .string(name)), ("kind", .string(config.kind.name)), ("alias", .string(alias)),
                      ("master", JSONValue(master)), ("mtu", JSONValue(mtu)), ("settings", .object(config.kind.settings))]
        case let .setMaster(link, master): fields = [("link", .string(link)), ("master", JSONValue(master))]
        case let .setMTU(link, mtu), let .pinBridgeMTU(link, mtu): fields = [("link", .string(link)), ("mtu", JSONValue(mtu))]
        case let .setMAC(link, mac): fields = [("link", .string(link)), ("mac", .string(mac.description))]
        case let .setUp(link): fields = [("link", .string(link))]
        case let .setAlias(link, alias): fields = [("link", .string(link)), ("alias", .string(alias))]
        case let .setPortIsolation(link, isolated): fields = [("link", .string(link)), ("isolated", .bool(isolated))]
        case let .setPortLearning(link, learning): fields = [("link", .string(link)), ("learning", .bool(learning))]
        case let .addStaticFDB(link, mac), let .deleteStaticFDB(link, mac): fields = [("link", .string(link)), ("mac", .string(mac.description))]
        case let .deleteLink(name): fields = [("name", .string(name))]
        case let .addAddress(link, address), let .removeAddress(link, address):
            fields = [("link", .string(link)), ("address", .string(address.description))]
        case let .addRoute(link, route), let .deleteRoute(link, route):
            fields = [("link", .string(link)), ("destination", .string(route.destination.description)),
                      ("gateway", JSONValue(route.gateway?.description)), ("metric", JSONValue(route.metric)),
                      ("table", JSONValue(route.table)), ("protocol", JSONValue(route.protocolNumber))]
        case let .replaceNftTable(table), let .replaceGuestFilter(table): fields = [("table", nftTable(table))]
        case let .deleteGuestFilter(family): fields = [("family", .string(family))]
        case .deleteNftTable: fields = []
        case let .setSysctl(name, value): fields = [("name", .string(name)), ("value", .string(value))]
        case let .setNameservers(link, nameservers):
            fields = [("link", .string(link)), ("addresses", .array(nameservers.addresses.map { .string($0.description) })),
                      ("search", .array(nameservers.search.map { .string($0) }))]
        case let .startUnit(spec), let .restartUnit(spec): fields = [("unit", unit(spec))]
        case let .stopUnit(name, runDirectory): fields = [("name", .string(name)), ("runDirectory", JSONValue(runDirectory))]
        case let .fetchImage(fetch):
            fields = [("reference", .string(fetch.reference)), ("digest", .string(fetch.digest)), ("root", .string(fetch.root)),
                      ("directory", .string(fetch.directory)), ("cached", .bool(fetch.cached)), ("makeDisk", .bool(fetch.makeDisk)),
                      ("plainHTTP", .bool(fetch.plainHTTP))]
        case let .createVMDisk(layer):
            fields = [("path", .string(layer.path)), ("backing", .string(layer.backing)), ("format", .string(layer.format.rawValue))]
        case let .deleteFromImageStore(root, path): fields = [("root", .string(root)), ("path", .string(path))]
        }
        return .object([("type", .string(action.typeName))] + fields)
    }

    /// The table in libnftables' own vocabulary: chains, maps with `[key, value]` elements, rules' `expr`.
    public static func nftTable(_ table: NftTable) -> JSONValue {
        [
            "chains": .array(table.chains.map {
                ["name": .string($0.name), "type": .string($0.type), "hook": .string($0.hook), "prio": JSONValue($0.priority),
                 "policy": .string($0.policy)]
            }),
            "maps": .array(table.maps.map {
                ["name": .string($0.name), "type": .array($0.keyType.map(JSONValue.string)), "map": .string($0.dataType),
                 "flags": .array($0.flags.map(JSONValue.string)), "elem": .array($0.elements.map(\.json))]
            }),
            "sets": .array(table.sets.map { ["name": .string($0.name), "type": .array($0.keyType.map(JSONValue.string)), "elem": .array($0.elements)] }),
            "rules": .array(table.rules.map { ["chain": .string($0.chain), "comment": JSONValue($0.comment), "expr": $0.expression] }),
        ]
    }

    /// How a MicroVM went down during an apply.
    public static func stop(_ report: UnitStopReport) -> JSONValue {
        ["unit": .string(report.unit), "microVM": JSONValue(report.microVM), "outcome": .string(report.stop.outcome.rawValue),
         "seconds": .number(String(format: "%.1f", report.stop.seconds)), "detail": .string(report.stop.detail)]
    }

    /// Everything systemd is asked to start; properties in order, by their D-Bus names (a name can repeat:
    /// `SystemCallFilter` allows a set, then denies part of it, as in a unit file).
    public static func unit(_ spec: UnitSpec) -> JSONValue {
        [
            "name": .string(spec.name), "microVM": .string(spec.microVM), "description": .string(spec.description),
            "argv": .array(spec.argv.map(JSONValue.string)), "stopCommand": spec.stopCommand.map { .array($0.map(JSONValue.string)) } ?? .null,
            "stopTimeoutSeconds": JSONValue(spec.stopTimeoutSeconds),
            "environment": .array(spec.environment.map(JSONValue.string)),
            "networkNamespacePath": JSONValue(spec.networkNamespacePath), "runDirectory": .string(spec.runDirectory),
            "logFile": JSONValue(spec.logFile),
            "files": .array(spec.files.map { ["path": .string($0.path), "contents": .string($0.contents)] }),
            "seedDisk": spec.seedDisk.map { seed in
                ["path": .string(seed.path), "label": .string(seed.label),
                 "files": .array(seed.files.map { ["path": .string($0.path), "contents": .string($0.contents)] })]
            } ?? .null,
            "properties": .array(spec.properties.map { property in
                let value: JSONValue
                switch property {
                case let .string(_, text): value = .string(text)
                case let .strings(_, values): value = .array(values.map(JSONValue.string))
                case let .uint32(_, number): value = JSONValue(UInt64(number))
                case let .uint64(_, number): value = JSONValue(number)
                case let .bool(_, flag): value = .bool(flag)
                case let .pairs(_, pairs): value = .array(pairs.map { .array([.string($0.first), .string($0.second)]) })
                case let .list(_, allow, values): value = ["allow": .bool(allow), "values": .array(values.map(JSONValue.string))]
                case let .binds(_, paths), let .byteStrings(_, paths): value = .array(paths.map(JSONValue.string))
                }
                return ["name": .string(property.name), "value": value]
            }),
            "specHash": .string(spec.specHash),
        ]
    }
}
