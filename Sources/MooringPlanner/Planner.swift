import MooringModel

/// desired + observed -> ordered changes. Pure: no I/O, the same inputs always give the same plan.
public struct Planner {
    public let desired: DesiredState
    public let observed: ObservedState

    public init(desired: DesiredState, observed: ObservedState) {
        self.desired = desired
        self.observed = observed
    }

    public func plan() -> Plan {
        let running = Set(observed.units.filter(\.isRunning).map(\.name))
        var links = LinkPlanner(desired: desired, observed: observed, runningMicroVMs: running)
        let (linkChanges, linkConflicts, _) = links.plan()
        let available = Set(observed.links.map(\.name)).union(LinkSpec.all(in: desired).map(\.name))
        let (natChanges, natConflicts) = NATPlanner(desired: desired, observed: observed, availableLinks: available).plan()
        let ordered = (linkChanges + natChanges).enumerated().sorted { a, b in
            a.element.phase == b.element.phase ? a.offset < b.offset : a.element.phase < b.element.phase
        }.map(\.element)
        return Plan(changes: ordered, conflicts: linkConflicts + natConflicts)
    }
}
