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
    public var reason: ChangeReason
    /// The fields that differ, with their values before and after (typed: numbers stay numbers).
    public var fields: [FieldChange]
    /// The change interrupts traffic or a running MicroVM (a link recreated, a VM restarted).
    public var disruptive: Bool
    /// Rule-level lines for table replacements (`+ forward tcp 80 -> 10.0.0.10:80`).
    public var details: [String]
    public var operation: Action
    /// Execution order: lower phases run first (deletes, masters, ports, children, addresses, ...).
    public var phase: Phase

    public init(resource: ResourceID, group: ChangeGroup, action: Verb, summary: String, reason: ChangeReason,
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
