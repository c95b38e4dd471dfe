import MooringModel

/// The difference between the manifests and the host, as a value: rendered as text or JSON by one
/// walker, executed by another, saved and reviewed in between.
public struct Plan: Sendable, Equatable {
    /// In execution order: what apply runs.
    public var changes: [Change]
    public var conflicts: [Conflict]
    /// Changes a conflict holds back (same resource, same manifest, or built on a held link): shown, not run.
    public var held: [Change]
    public var warnings: [String]
    /// Kinds of object that could not be observed, with why ("MicroVM units: cannot connect to the system
    /// bus ..."): the plan cannot say they match, so it is never "in sync" while this is not empty.
    public var unchecked: [String]

    public init(changes: [Change] = [], conflicts: [Conflict] = [], held: [Change] = [], warnings: [String] = [],
                unchecked: [String] = []) {
        self.changes = changes
        self.conflicts = conflicts
        self.held = held
        self.warnings = warnings
        self.unchecked = unchecked
    }

    public var isInSync: Bool { changes.isEmpty && conflicts.isEmpty && held.isEmpty && unchecked.isEmpty }

    /// Counts by resource, so a replaced link (a delete and a create) counts once.
    public struct Summary: Sendable, Equatable {
        public var create = 0, update = 0, replace = 0, delete = 0, disruptive = 0

        public init(create: Int = 0, update: Int = 0, replace: Int = 0, delete: Int = 0, disruptive: Int = 0) {
            self.create = create
            self.update = update
            self.replace = replace
            self.delete = delete
            self.disruptive = disruptive
        }
    }

    public var summary: Summary {
        var verbs: [ResourceID: Set<Change.Verb>] = [:]
        var disruptive: Set<ResourceID> = []
        for change in changes {
            verbs[change.resource, default: []].insert(change.action)
            if change.disruptive { disruptive.insert(change.resource) }
        }
        var summary = Summary()
        for (_, set) in verbs {
            if set.contains(.replace) || set.contains(.restart) { summary.replace += 1 }
            else if set.contains(.create) || set.contains(.start) { summary.create += 1 }
            else if set.contains(.delete) || set.contains(.stop) { summary.delete += 1 }
            else { summary.update += 1 }
        }
        summary.disruptive = disruptive.count
        return summary
    }
}
