import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Synchronization

/// What to reconcile: which manifests, on which host, in which namespace.
public struct ReconcileTarget: Sendable {
    public var manifestDirectory: String
    public var netns: String?
    public var hostName: String?
    /// `--host` as given (nil when the machine's hostname stands in): part of the bridges' MACs.
    public var explicitHost: String?
    public var hostLabels: [String: String] = [:]
    public var limits: ManifestReadLimits
    /// Talk to the caller's user manager (session bus) instead of the system manager.
    public var userBus: Bool
    /// Where VM consoles, VMM logs and configs go.
    public var runRoot: String
    /// The mooring executable MicroVM units run for `exec-vm`; nil means this process's own.
    public var mooringExecutable: String?

    public init(manifestDirectory: String, netns: String? = nil, hostName: String? = nil,
                limits: ManifestReadLimits = ManifestReadLimits(), userBus: Bool = false, runRoot: String = "/run/mooring") {
        self.manifestDirectory = manifestDirectory
        self.netns = netns
        self.hostName = hostName
        self.limits = limits
        self.userBus = userBus
        self.runRoot = runRoot
    }

    public func with(mooringExecutable path: String?) -> ReconcileTarget {
        var copy = self
        copy.mooringExecutable = path
        return copy
    }
}

/// A value one thread hands to another.
private final class Slot<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func put(_ new: Value) { value.withLock { $0 = new } }
    func take() -> Value? { value.withLock { $0.take() } }
}

/// Thrown when the manifests do not validate: nothing was observed or changed.
public struct InvalidManifests: Error, Sendable {
    public var diagnostics: [Diagnostic]
}

/// The whole pipeline: validate -> observe -> plan -> apply -> observe again -> plan again (verify).
public final class Reconciler: Sendable {
    public let target: ReconcileTarget
    public let drivers: HostDrivers

    public init(target: ReconcileTarget) throws {
        self.target = target
        drivers = try PhaseTimer.measure("connect") { try HostDrivers(netns: target.netns, userBus: target.userBus) }
    }

    /// /etc/machine-id, read once: the host's identity for its bridges' MACs when no Host manifest or `--host`
    /// names it.
    static let machineID: String = (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""

    public struct Loaded: Sendable {
        public var desired: DesiredState
        public var warnings: [Diagnostic]
        /// Documents read, including those for other hosts.
        public var documentsRead: Int
    }

    /// The report header: which manifests (and git commit), which host and namespace.
    public func context() -> ReportContext {
        context(git: GitInfo.of(target.manifestDirectory))
    }

    /// Starts the report header's git lookup on its own thread, so the helper processes overlap loading
    /// and observing; `wait()` gives the header.
    public func beginContext() -> Pending<ReportContext> {
        let directory = target.manifestDirectory
        return Pending.onOwnThread { [self] in context(git: GitInfo.of(directory)) }
    }

    private func context(git: GitInfo?) -> ReportContext {
        ReportContext(manifestDirectory: target.manifestDirectory, host: target.hostName, netns: target.netns,
                             gitCommit: git?.commit, gitDirty: git?.dirty, provenanceProblem: git?.unavailable)
    }

    /// The lock mutating commands hold while they observe, plan and apply.
    public func lock() -> OperationLock {
        OperationLock(path: OperationLock.path(netns: target.netns))
    }

    public func load() throws -> Loaded {
        let result = PhaseTimer.measure("load") {
            ManifestSet.load(directory: target.manifestDirectory, hostName: target.hostName,
                             hostLabels: target.hostLabels, limits: target.limits)
        }
        guard var desired = result.desired else { throw InvalidManifests(diagnostics: result.diagnostics) }
        desired.host.macIdentity = desired.host.origin?.name ?? target.explicitHost ?? Self.machineID
        return Loaded(desired: desired, warnings: result.warnings.filter { !$0.settledByHostCheck },
                      documentsRead: result.documentsRead)
    }

    /// - Parameter holdingLock: the caller holds the lock (an apply, a watch round): no other apply can be in
    ///   progress, so /proc/locks is not read to look for one (measured: 1 to 9 ms a read on a busy host).
    public func plan(_ desired: DesiredState, holdingLock: Bool = false) throws -> (Plan, ObservedState) {
        try plan(desired, observing: drivers.beginObserving(), holdingLock: holdingLock)
    }

    /// A plan from the links read again and the rest of `previous` (HostDrivers.observeLinks): for a watch
    /// round started by link events, which holds the lock. What the manifests make is kept from the last plan
    /// of the same manifests (`desiredLinks`).
    /// - Parameter names: only these links are read again (the ones the events named); nil: all of them.
    public func planLinks(_ desired: DesiredState, updating previous: ObservedState, only names: Set<String>? = nil) throws -> (Plan, ObservedState) {
        let observed = try PhaseTimer.measure("observe links") { try drivers.observeLinks(updating: previous, only: names) }
        return (planned(desired, observed, applyInProgressBy: nil, linksOnly: true, scope: names), observed)
    }

    private func planned(_ desired: DesiredState, _ observed: ObservedState, applyInProgressBy holder: Int32?, linksOnly: Bool = false,
                         scope: Set<String>? = nil, restart: MicroVMSelection = .none) -> Plan {
        let planTarget = PlanTarget(networkNamespace: target.netns, runRoot: target.runRoot,
                                    mooringExecutable: target.mooringExecutable, applyInProgressBy: holder, restart: restart)
        let links = desiredLinks(desired, identities: VMMIdentityMap.of(desired, observed))
        let planner = Planner(desired: desired, observed: observed, target: planTarget, desiredLinks: links)
        return PhaseTimer.measure(linksOnly ? "plan links" : "plan") { linksOnly ? planner.planLinks(scope: scope) : planner.plan() }
    }

    /// What the last plan's manifests make, kept for the next plan of the same manifests: an apply's
    /// verification, every look of a watch loop (the one place a round's `DesiredLinks` is made). Manifests loaded once and passed on share their arrays' storage,
    /// so telling them equal is a few pointer comparisons (building it: 2-3 ms of a 15 ms plan at N = 1000).
    private let lastDesiredLinks = Mutex<(desired: DesiredState, links: DesiredLinks)?>(nil)

    private func desiredLinks(_ desired: DesiredState, identities: VMMIdentityMap) -> DesiredLinks {
        if let kept = lastDesiredLinks.withLock({ $0 }), kept.links.fit(identities), kept.desired == desired { return kept.links }
        let links = DesiredLinks(desired, identities: identities)
        lastDesiredLinks.withLock { $0 = (desired, links) }
        return links
    }

    /// Loads the manifests while the host is observed on the drivers' threads, then plans: on two cores
    /// the parse of a large manifest set and the netlink and nftables dumps overlap.
    /// - Parameter holdingLock: the caller holds the lock (see `plan`).
    /// - Parameter restart: running MicroVMs this plan restarts (`mooring restart`).
    public func loadAndPlan(holdingLock: Bool = false, restart: MicroVMSelection = .none) throws -> (Loaded, Plan, ObservedState) {
        let pending = drivers.beginObserving()
        let loaded: Loaded
        do {
            loaded = try load()
        } catch {
            // Invalid manifests: the observation is not wanted, but the process must not exit in the middle of it.
            pending.settle()
            throw error
        }
        let (plan, observed) = try self.plan(loaded.desired, observing: pending, holdingLock: holdingLock, restart: restart)
        return (loaded, plan, observed)
    }

    func plan(_ desired: DesiredState, observing pending: HostDrivers.PendingObservation,
                      holdingLock: Bool = false, restart: MicroVMSelection = .none) throws -> (Plan, ObservedState) {
        // An apply by another process that overlaps the observation, at its start or its end, means the
        // snapshot may show its work in progress.
        let lock = self.lock()
        let holderBefore = holdingLock ? nil : lock.currentHolder()
        let observed = try PhaseTimer.measure("observe") {
            try pending.finish(files: desired.referencedFiles.union(desired.vmmDevices),
                           writableFiles: desired.writableFiles.union(desired.vmmDevices), runRoot: target.runRoot,
                               nameservers: desired.bridges.contains { $0.nameservers != nil }, images: desired.imagesToObserve)
        }
        return (planned(desired, observed, applyInProgressBy: holdingLock ? nil : holderBefore ?? lock.currentHolder(), restart: restart), observed)
    }

    /// The host as it is, everything a revert compares (the whole table), no files checked.
    public func observeForRevert() throws -> ObservedState {
        try drivers.beginObserving().finish(files: [], runRoot: target.runRoot)
    }

    public struct ApplyOutcome: Sendable {
        public var plan: Plan
        /// Changes completed, over every attempt.
        public var completed: Int
        /// What is still different after applying; in sync when converged.
        public var remaining: Plan
        /// How each stopped or restarted MicroVM went down: cleanly, or forced after its timeout.
        public var stops: [UnitStopReport] = []
        /// A later attempt's plan that the guard policy did not let through (the host moved under the apply).
        public var refusal: GuardRefusal?
        /// The host as the last look saw it (nil when nothing was executed: the plan's own observation holds).
        public var observed: ObservedState?
        public var converged: Bool { remaining.isInSync }
    }

    /// How many times a round executes what is left before it reports the host as still different: the
    /// first plan, and up to two repairs of what the look after it still finds (a change by someone else
    /// meanwhile, a VMM that was slow to let go of a tap). The same for apply, try and every watch round.
    public static let executeAttempts = 3

    /// What one execution did.
    struct Executed {
        var completed: Int
        var stops: [UnitStopReport]
        /// Mooring's tables, read back from the moment their transaction committed (when asked for).
        var tables: HostDrivers.PendingTables?
    }

    /// Executes `plan`: the one place an `Executor` is made (apply, a watch round, a trial's revert).
    /// - Parameter readTablesBack: start reading mooring's tables as soon as the changes alongside the links
    ///   are done, for the look that verifies (it overlaps the links still being made).
    func execute(_ plan: Plan, readTablesBack: Bool = false, progress: @escaping @Sendable (Int, Change) -> Void) throws -> Executed {
        var executor = Executor(drivers: drivers)
        executor.progress = progress
        let tablesWritten = Slot<HostDrivers.PendingTables>()
        if readTablesBack { executor.alongsideDone = { [drivers] in tablesWritten.put(drivers.beginObservingTables()) } }
        do {
            let completed = try PhaseTimer.measure("execute") { try executor.execute(plan) }
            return Executed(completed: completed, stops: executor.stops.all, tables: tablesWritten.take())
        } catch var error as ExecutionError {
            tablesWritten.take()?.settle()
            error.stops = executor.stops.all
            throw error
        } catch {
            tablesWritten.take()?.settle()
            throw error
        }
    }

    /// Executes `plan`, looks again, and executes what is still different, up to `executeAttempts` times: the
    /// one execute-and-verify loop of every round. A later attempt's plan goes through `guards` too.
    /// - Parameter readTablesBack: whether the look after executing a plan reads mooring's tables (the watch
    ///   loop's link-only looks do not).
    /// - Parameter look: the host looked at again after an execution (given what it did), planned.
    func converge(_ plan: Plan, guards: GuardPolicy, source: GuardPolicy.Source, readTablesBack: (Plan) -> Bool = { _ in true },
                  progress: @escaping @Sendable (Int, Change) -> Void,
                  look: (Plan, Executed) throws -> (Plan, ObservedState)) throws -> ApplyOutcome {
        var completed = 0
        var stops: [UnitStopReport] = []
        var current = plan
        var remaining = plan
        var lastObserved: ObservedState?
        for attempt in 0..<Self.executeAttempts {
            // Conflicts hold back only what they concern (ConflictScope): the rest is applied.
            guard !current.changes.isEmpty else { break }
            let executed: Executed
            do {
                executed = try execute(current, readTablesBack: readTablesBack(current), progress: progress)
            } catch var error as ExecutionError {
                error.completed += completed
                error.stops = stops + error.stops
                throw error
            }
            completed += executed.completed
            stops += executed.stops
            let observed: ObservedState
            (remaining, observed) = try look(current, executed)
            lastObserved = observed
            current = remaining
            if attempt + 1 < Self.executeAttempts, !remaining.changes.isEmpty,
               let refusal = guards.refusal(remaining, observed: observed, source: source) {
                return ApplyOutcome(plan: plan, completed: completed, remaining: remaining, stops: stops, refusal: refusal, observed: observed)
            }
        }
        return ApplyOutcome(plan: plan, completed: completed, remaining: remaining, stops: stops, observed: lastObserved)
    }

    /// Applies `plan` (made from the current state of `desired`) and verifies it, repairing what is left.
    public func apply(_ plan: Plan, desired: DesiredState, guards: GuardPolicy = GuardPolicy(),
                      progress: @escaping @Sendable (Int, Change) -> Void = { _, _ in }) throws -> ApplyOutcome {
        let source = GuardPolicy.Source(documentCount: desired.documentCount, documentsRead: desired.documentCount, host: target.hostName)
        return try converge(plan, guards: guards, source: source, progress: progress) { _, executed in
            try self.plan(desired, observing: drivers.beginObserving(tables: executed.tables), holdingLock: true)
        }
    }
}
