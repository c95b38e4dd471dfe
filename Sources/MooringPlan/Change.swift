import MooringModel

/// One entry of a plan: an operation with what it is for, why, and what it changes, field by field.
public struct Change: Sendable, Equatable {
    public enum Verb: String, Sendable, CaseIterable {
        case create, update, delete, replace, start, stop, restart
    }

    public var resource: ResourceID
    public var group: ChangeGroup
    public var action: Verb
    /// One human line, e.g. `create tap vm-web-1-eth0 (MicroVM web-1 eth0) master microvm`.
    public var summary: String
    public var reason: String
    /// The fields that differ, with their values before and after (typed: numbers stay numbers).
    public var fields: [FieldChange]
    /// The change interrupts traffic or a running MicroVM (a link recreated, a VM restarted).
    public var disruptive: Bool
    /// Rule-level lines for table replacements (`+ forward tcp 80 -> 10.0.0.10:80`).
    public var details: [String]
    public var operation: Action
    /// Execution order: lower phases run first (deletes, masters, ports, children, addresses, ...).
    public var phase: Phase

    public init(resource: ResourceID, group: ChangeGroup, action: Verb, summary: String, reason: String,
                fields: [FieldChange] = [], disruptive: Bool = false, details: [String] = [], operation: Action, phase: Phase) {
        self.resource = resource
        self.group = group
        self.action = action
        self.summary = summary
        self.reason = reason
        self.fields = fields
        self.disruptive = disruptive
        self.details = details
        self.operation = operation
        self.phase = phase
    }
}

/// One field of a resource a change sets: `mtu` 1500 -> 9000, `master` null -> "br0".
public struct FieldChange: Sendable, Equatable {
    public var field: String
    public var before: JSONValue
    public var after: JSONValue

    public init(_ field: String, before: JSONValue, after: JSONValue) {
        self.field = field
        self.before = before
        self.after = after
    }
}

/// Something mooring cannot resolve by itself (it would have to touch what it does not own, or a file or
/// program is missing). It holds back the changes it concerns (see `ConflictScope`); the rest still apply.
public struct Conflict: Sendable, Equatable, CustomStringConvertible {
    public var resource: ResourceID
    /// The manifest it concerns: that manifest's changes wait for it.
    public var group: ChangeGroup
    public var message: String
    /// How to resolve it.
    public var fix: String
    /// Other resources it holds back: a NAT manifest's missing interface holds the one table all NATs share.
    public var holds: [ResourceID]

    public init(resource: ResourceID, group: ChangeGroup, message: String, fix: String, holds: [ResourceID] = []) {
        self.resource = resource
        self.group = group
        self.message = message
        self.fix = fix
        self.holds = holds
    }

    public var description: String { "\(resource): \(message); \(fix)" }
}
