import MooringModel

/// One entry of a plan: an operation with what it is for, why, and what it changes.
public struct Change: Sendable, Codable, Equatable {
    public enum Verb: String, Sendable, Codable {
        case create, update, delete, replace, start, stop, restart
    }

    /// What the change touches, e.g. `link/vm-web-1-eth0`.
    public var resource: String
    /// The manifest it serves, e.g. `MicroVM "web-1"`; `staleGroup` for leftovers no manifest wants.
    public var group: String
    public static let staleGroup = "stale"
    public var action: Verb
    /// One human line, e.g. `create tap vm-web-1-eth0 (MicroVM web-1 eth0) master microvm`.
    public var summary: String
    public var reason: String
    public var before: String?
    public var after: String?
    /// The change interrupts traffic or a running MicroVM (a link recreated, a VM restarted).
    public var disruptive: Bool
    /// Rule-level lines for table replacements (`+ forward tcp 80 -> 10.0.0.10:80`).
    public var details: [String]
    public var operation: Action
    /// Execution order: lower phases run first (deletes, masters, ports, children, addresses, ...).
    public var phase: Phase

    public init(resource: String, group: String, action: Verb, summary: String, reason: String, before: String? = nil,
                after: String? = nil, disruptive: Bool = false, details: [String] = [], operation: Action, phase: Phase) {
        self.resource = resource
        self.group = group
        self.action = action
        self.summary = summary
        self.reason = reason
        self.before = before
        self.after = after
        self.disruptive = disruptive
        self.details = details
        self.operation = operation
        self.phase = phase
    }
}

/// Something mooring cannot resolve by itself (it would have to touch what it does not own, or a file or
/// program is missing). It holds back the changes it concerns (see `ConflictScope`); the rest still apply.
public struct Conflict: Sendable, Codable, Equatable, CustomStringConvertible {
    public var resource: String
    /// The manifest it concerns, e.g. `MicroVM "web-1"`: that manifest's changes wait for it.
    public var group: String
    public var message: String
    /// How to resolve it.
    public var fix: String
    /// Other resources it holds back: a NAT manifest's missing interface holds the one table all NATs share.
    public var holds: [String]

    public init(resource: String, group: String, message: String, fix: String, holds: [String] = []) {
        self.resource = resource
        self.group = group
        self.message = message
        self.fix = fix
        self.holds = holds
    }

    public var description: String { "\(resource): \(message); \(fix)" }
}
