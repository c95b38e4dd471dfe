import MooringModel

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
