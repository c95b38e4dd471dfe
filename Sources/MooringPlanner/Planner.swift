import MooringModel
import MooringPlan

/// desired + observed -> ordered changes. Pure: no I/O, the same inputs always give the same plan.
public struct Planner {
    public let desired: DesiredState
    public let observed: ObservedState
    public let target: PlanTarget
    /// What the manifests make, kept by a caller that plans the same manifests again and again (a watch loop).
    public let desiredLinks: DesiredLinks?

    public init(desired: DesiredState, observed: ObservedState, target: PlanTarget = PlanTarget(), desiredLinks: DesiredLinks? = nil) {
        self.desired = desired
        self.observed = observed
        self.target = target
        self.desiredLinks = desiredLinks
    }

    /// The link names the manifests make or build on: mooring's links, their masters, parents and underlays,
    /// host ports and NAT's interfaces. Depends on the manifests only: a watch loop works it out once per
    /// manifest set, not once per look (it builds every link's spec: 12% of a round at a thousand taps).
    public static func linksReferenced(by desired: DesiredState) -> Set<String> { LinkSpec.namesReferenced(by: desired) }

    /// The links whose changes can matter to a plan: those the manifests reference (`linksReferenced`) and every
    /// link mooring owns now (a stale one is deleted). A change to any other link (a container's veth, a VPN's
    /// tun) needs no look.
    public static func linksOfInterest(referenced: Set<String>, _ observed: ObservedState) -> Set<String> {
        var names = referenced
        for link in observed.links where link.isOwnedByMooring { names.insert(link.name) }
        return names
    }

    public func plan() -> Plan { plan(linksOnly: false, scope: nil) }

    /// The plan for a watch round that only link events started, on an observation whose tables and units
    /// are the last full look's: links, routes and DNS (a recreated bridge lost its resolved settings) are
    /// compared, and the units of MicroVMs whose devices are recreated; mooring's nftables tables are not (no
    /// link event changes them; the next full round compares them). Measured at a thousand MicroVMs with a
    /// forward each: 6-9 ms against the full plan's 15-18.
    /// - Parameter scope: only these links are compared (the ones the round's events named and read again);
    ///   nil: all of them.
    public func planLinks(scope: Set<String>? = nil) -> Plan { plan(linksOnly: true, scope: scope) }

    private func plan(linksOnly: Bool, scope: Set<String>? = nil) -> Plan {
        // From the units (few) to MicroVM names, not from every MicroVM to its escaped unit name: 5% of a watch
        // round at a thousand `vmm: none` MicroVMs.
        let running = Set(observed.units.filter(\.isRunning).compactMap { SystemdNames.microVM(forUnit: $0.name) })
        // What the manifests make: the caller's, if made for this VMM identity (the taps' owner), else built here.
        let identities = VMMIdentityMap.of(desired, observed)
        let made = desiredLinks.flatMap { $0.fit(identities) ? $0 : nil } ?? DesiredLinks(desired, identities: identities)
        var links = LinkPlanner(desired: desired, observed: observed, runningMicroVMs: running, scope: scope, desiredLinks: made)
        let (linkChanges, linkConflicts, recreated) = links.plan()
        let (routeChanges, routeConflicts) = RoutePlanner(desired: desired, observed: observed, movingPorts: links.movingPorts).plan()
        let (dnsChanges, dnsUnchecked) = NameserverPlanner(desired: desired, observed: observed).plan()
        let filterChanges = linksOnly ? [] : GuestFilterPlanner(desired: desired, observed: observed).plan()
        let (natChanges, natConflicts) = linksOnly ? ([], [])
            : NATPlanner(desired: desired, observed: observed,
                         availableLinks: Set(observed.links.map(\.name)).union(made.names)).plan()
        let (unitChanges, unitConflicts, unitWarnings) = linksOnly && recreated.isEmpty ? ([], [], [])
            : UnitPlanner(desired: desired, observed: observed, target: target, recreatedDevices: recreated, identities: identities).plan()
        let (serviceChanges, serviceConflicts) = linksOnly ? ([], []) : BridgeServicePlanner(desired: desired, observed: observed, target: target).plan()
        let ordered = (linkChanges + routeChanges + dnsChanges + natChanges + filterChanges + serviceChanges + unitChanges).enumerated().sorted { a, b in
            a.element.phase == b.element.phase ? a.offset < b.offset : a.element.phase < b.element.phase
        }.map(\.element)
        var warnings = links.adopted + unitWarnings
        if let pid = target.applyInProgressBy {
            warnings.append("process \(pid) is applying right now: this report shows the host part-way through its changes")
        }
        // Without MicroVMs to run, units matter only if some of mooring's could exist: not when no systemd manager
        // is there at all (no bus socket), but when one is there and could not be asked.
        var unchecked = dnsUnchecked
        if let problem = observed.unitProblem, !desired.needsUnits, !observed.unitManagerAbsent {
            unchecked.append("MicroVM units: \(problem)")
        }
        let conflicts = linkConflicts + routeConflicts + natConflicts + serviceConflicts + unitConflicts
        let (run, held) = ConflictScope.split(ordered, by: conflicts)
        return Plan(changes: run, conflicts: conflicts, held: held, warnings: warnings, unchecked: unchecked)
    }
}
