import Foundation
import Logging
import MooringDrivers
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports

/// `mooring run`: converge at start, then repair drift as it happens.
///
/// A netlink link or address notification after a quiet spell starts a reconcile at once; those during or right
/// after a round are gathered for `debounce` into one more (a burst costs two rounds, not one per event, and a
/// single deleted tap is back without waiting out the debounce). A full resync runs every
/// `resync` to catch what no event reports (nftables, units). The loop takes the shared lock for each
/// reconcile only, so a timer's `apply` can run in between.
///
/// Manifests are read only once they are stable: no manifest is in the middle of being written and the
/// tree has been quiet for `settle`. An edit that would still delete a large share of what mooring owns is
/// held back as suspicious (`SuddenDropGuard`) while the last accepted manifests keep being enforced.
public final class WatchLoop {
    public struct Settings: Sendable {
        public var debounce: TimeInterval = 0.02
        public var resync: TimeInterval = 300
        public var lockTimeout: TimeInterval = 60
        /// What a round refuses (GuardPolicy): the same policy as apply's, with `--max-drop 10` by default.
        public var guards = GuardPolicy(maxDropPercent: 10)
        /// How long the manifest tree must be quiet (and no manifest open with unflushed writes) before it is read.
        public var settle: TimeInterval = 1

        public init(debounce: TimeInterval = 0.02, resync: TimeInterval = 300, lockTimeout: TimeInterval = 60,
                    guards: GuardPolicy = GuardPolicy(maxDropPercent: 10), settle: TimeInterval = 1) {
            self.debounce = debounce
            self.resync = resync
            self.lockTimeout = lockTimeout
            self.guards = guards
            self.settle = settle
        }
    }

    private let reconciler: Reconciler
    private let settings: Settings
    private let logger: Logger
    /// The manifests being enforced: the last set that validated and was not held back.
    private var lastGood: DesiredState? {
        didSet { referenced = lastGood.map(Planner.linksReferenced(by:)) ?? [] }
    }
    /// The links `lastGood` makes or uses (Planner.linksReferenced), worked out when it changes.
    private var referenced: Set<String> = []
    /// A newer valid set the guard policy held back (a suspicious drop, an empty set, a set that keeps none of
    /// what is owned); looked at again every round, accepted once applying it no longer deletes that much (the
    /// operator confirmed it with `mooring apply`), and reported once.
    private var heldBack: Candidate?

    /// A manifest set read, with how many documents were read for it (for the guard's words).
    private struct Candidate: Equatable {
        var desired: DesiredState
        var documentsRead: Int
    }
    private var reconciles = 0
    private var appliedTotal = 0
    private var lastSuccess: Double?
    /// The host as the last round saw it: a round that link events started reads only the links again and
    /// takes the rest from here (HostDrivers.observeLinks).
    private var lastObserved: ObservedState?
    /// Whether the last full look ended in sync: only then may a round look at the links alone (what it does
    /// not compare, the tables and units, was right then and no link event changes it).
    private var inSyncAtLastFullLook = false
    /// Names of interfaces by index, from the last look and the events since: address and route events name
    /// an index only.
    private var namesByIndex: [Int: String] = [:]
    /// The links whose events matter (Planner.linksOfInterest), as of the last look: worked out once per
    /// round, not per event batch (a storm brings thousands).
    private var interest: Set<String> = []
    /// Events on links no manifest uses and mooring does not own, not looked at (logged at debug level).
    private var ignoredEvents = 0
    /// The links the events since the last round named (by name, or through their index); nil when one could
    /// not be named, so the next round reads every link.
    private var touched: Set<String>? = []

    /// Every round's duration, for the metrics' histogram.
    private var durations = RoundDurations()

    /// Told after every round, with its result (the metrics of `run --metrics-file` and `--metrics-address`).
    public var onRound: ((MetricsReport) -> Void)?

    public init(reconciler: Reconciler, settings: Settings, logger: Logger) {
        self.reconciler = reconciler
        self.settings = settings
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT; SIGHUP reads the manifests again at once (`systemctl reload`).
    public func run() throws {
        let stop = try StopSignals(StopSignals.watching)
        let signalFD = stop.fd
        let monitor = try reconciler.drivers.makeMonitor()
        let watcher = try ManifestWatcher(directory: reconciler.target.manifestDirectory)

        reconcile(reason: "start", manifestsChanged: true, monitor: monitor)
        ServiceNotifier.notify("READY=1")
        let watchdog = ServiceNotifier.watchdogInterval()
        var nextWatchdog = watchdog.map { Date().addingTimeInterval($0 / 2) }
        var nextResync = Date().addingTimeInterval(settings.resync)
        var due: Date?
        // When the last round ended: an event after a quiet spell starts a round at once (the leading edge: a
        // single deleted tap is back without waiting out the debounce, 21-22 ms -> about the round's own time);
        // events during or right after a round are gathered for the debounce (a burst costs one more round).
        var lastRoundEnded = Date.distantPast
        func eventDue() -> Date {
            Date().timeIntervalSince(lastRoundEnded) >= settings.debounce ? Date() : Date().addingTimeInterval(settings.debounce)
        }
        var reasons: Set<String> = []
        var manifestsPending = false
        var waitingFor: Set<String> = []

        while true {
            let now = Date()
            // Pending manifests are read once the tree is quiet and nobody is half-way through writing one.
            var manifestsSettle: Date?
            if manifestsPending, watcher.beingWritten.isEmpty, let last = watcher.lastEvent {
                manifestsSettle = last.addingTimeInterval(settings.settle)
            }
            let deadlines = [due, nextResync, nextWatchdog, manifestsSettle].compactMap { $0 }
            let wait = max(0, deadlines.map { $0.timeIntervalSince(now) }.min() ?? 1)
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: monitor.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: watcher.fd, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, nfds_t(fds.count), Int32(min(wait, 3600) * 1000) + (wait > 0 ? 1 : 0))
            if fds[0].revents != 0, let received = stop.next(timeout: 0) {
                if received.signal == SIGHUP {
                    // A reload: the manifests are read and applied now, whatever the watcher saw.
                    logger.info("reloading on SIGHUP from pid \(received.sender)")
                    ServiceNotifier.notify("RELOADING=1")
                    reconcile(reason: "reload", manifestsChanged: true, monitor: monitor)
                    manifestsPending = false
                    ServiceNotifier.notify("READY=1")
                    continue
                }
                logger.info("stopping on signal")
                ServiceNotifier.notify("STOPPING=1")
                return
            }
            if fds[1].revents != 0 {
                let events = monitor.drain()
                if events.overflowed {
                    // Events were lost, maybe about mooring's links: look at everything.
                    reasons.insert("netlink overflow")
                    due = due ?? eventDue()
                } else if events.count > 0, concerns(events) {
                    reasons.insert("netlink event")
                    due = due ?? eventDue()
                }
            }
            if fds[2].revents != 0, watcher.drain() {
                manifestsPending = true
                if !watcher.beingWritten.isEmpty, watcher.beingWritten != waitingFor {
                    let files = watcher.beingWritten.sorted().joined(separator: ", ")
                    logger.info("manifests changed; waiting until \(files) \(watcher.beingWritten.count == 1 ? "is" : "are") closed before reading them")
                }
                waitingFor = watcher.beingWritten
            }
            var readManifests = false
            if manifestsPending, watcher.beingWritten.isEmpty, let last = watcher.lastEvent,
               Date() >= last.addingTimeInterval(settings.settle) {
                reasons.insert("manifests changed")
                readManifests = true
                due = due ?? Date()
            }
            if let next = nextWatchdog, Date() >= next {
                ServiceNotifier.notify("WATCHDOG=1")
                nextWatchdog = Date().addingTimeInterval((watchdog ?? 1) / 2)
            }
            if Date() >= nextResync {
                reasons.insert("periodic resync")
                due = Date()
                nextResync = Date().addingTimeInterval(settings.resync)
            }
            if let deadline = due, Date() >= deadline {
                // Only link events since the last look: the links are read again, the rest is the last look's.
                let linksOnly = reasons == ["netlink event"] && !readManifests
                reconcile(reason: reasons.sorted().joined(separator: ", "), manifestsChanged: readManifests, monitor: monitor,
                          linksOnly: linksOnly)
                lastRoundEnded = Date()
                due = nil
                reasons.removeAll()
                if readManifests { manifestsPending = false }
            }
        }
    }

    /// Accepts a newly read manifest set unless the guard policy refuses the plan it makes (a suspicious share
    /// deleted, everything deleted); then it is held back (and reported once) and the last accepted set stays in
    /// force. The first set read is not held to the share limit: starting the service again is how an operator
    /// confirms a held-back drop. Returns the plan that held it back.
    @discardableResult
    private func consider(_ candidate: Candidate) throws -> Plan? {
        let policy = lastGood == nil ? settings.guards.withoutShareLimit : settings.guards
        let (plan, observed) = try reconciler.plan(candidate.desired, holdingLock: true)
        let source = GuardPolicy.Source(documentCount: candidate.desired.documentCount, documentsRead: candidate.documentsRead,
                                        host: reconciler.target.hostName)
        if let refusal = policy.refusal(plan, observed: observed, source: source) {
            if heldBack != candidate {
                let kept = lastGood == nil ? "nothing is changed until then" : "until then the previous manifests stay in force"
                let message: String
                switch refusal {
                case let .emptySet(teardown, why):
                    message = "refusing to delete everything mooring owns here (\(teardown)): \(why); start with --allow-empty to allow that; \(kept)"
                case .keepsNothing:
                    message = "holding back the manifest change: \(refusal). A host switched to a new manifest tree looks like this; if that is "
                        + "intended, run `mooring apply --allow-large-drop` once (or start this service with --allow-large-drop); \(kept)"
                case let .overLimit(drop, percent):
                    message = "holding back the manifest change: \(drop), more than one edit may delete without confirmation "
                        + "(--max-drop \(percent.formatted())%). A manifest caught half-written reads like this; write manifests "
                        + "by atomic rename. If the removal is intended, run `mooring apply` once (or restart this service); \(kept)"
                case .irreversible:
                    message = "holding back the manifest change: \(refusal); \(kept)"
                }
                logger.error("\(message)")
                ServiceNotifier.notify("STATUS=manifest change held back: \(refusal)")
            }
            heldBack = candidate
            return plan
        }
        if heldBack != nil { logger.info("the held-back manifest change is accepted: it no longer deletes more than allowed") }
        lastGood = candidate.desired
        heldBack = nil
        return nil
    }

    /// One round: validate (keeping the last good manifests when an edit is bad), then plan, apply and verify
    /// under the lock. Notifications caused by our own changes are drained before verifying, so a change made
    /// by someone else meanwhile still shows in the verify plan and triggers another round.
    /// Whether events touch a link mooring uses or owns (by name, or by index for address and route events
    /// and for a link renamed away from one of its names); an index never seen counts, to be safe.
    private func concerns(_ events: MonitorEvents) -> Bool {
        guard lastGood != nil, lastObserved != nil else { return true }
        var about: String?
        var named: Set<String> = []
        for (index, name) in events.links {
            if interest.contains(name) { about = about ?? name; named.insert(name) }
            if let old = namesByIndex[index], interest.contains(old) { about = about ?? old; named.formUnion([old, name]) }
            namesByIndex[index] = name
        }
        for index in events.indexes {
            guard let name = namesByIndex[index] else {
                about = about ?? "interface index \(index)"
                touched = nil
                continue
            }
            if interest.contains(name) { about = about ?? name; named.insert(name) }
        }
        touched?.formUnion(named)
        if let about {
            logger.debug("netlink events about \(about)")
            return true
        } else {
            ignoredEvents += events.count
            logger.debug("ignored \(events.count) netlink message batch(es) about links mooring does not use (\(ignoredEvents) so far)")
            return false
        }
    }

    /// One round's metrics, to whoever listens.
    private func report(_ started: Date, succeeded: Bool, remaining: Plan?, applied: Int) {
        guard let onRound else { return }
        let now = Date()
        durations.record(now.timeIntervalSince(started))
        let microVMs = lastGood.flatMap { desired in lastObserved.map { MetricsReport.MicroVMState.of(desired, $0) } }
        let round = MetricsReport.Round(command: "run", finished: now.timeIntervalSince1970, durationSeconds: now.timeIntervalSince(started),
                                        succeeded: succeeded, remaining: remaining, applied: applied, microVMs: succeeded ? microVMs : nil)
        var report = MetricsReport(round: round, lastSuccess: lastSuccess, totals: (reconciles, appliedTotal))
        report.durations = durations
        lastSuccess = report.lastSuccess
        onRound(report)
    }

    func reconcile(reason: String, manifestsChanged: Bool, monitor: NetlinkMonitor, linksOnly: Bool = false) {
        let started = Date()
        reconciles += 1
        var candidate = heldBack
        if manifestsChanged || (lastGood == nil && heldBack == nil) {
            do {
                let loaded = try reconciler.load()
                candidate = Candidate(desired: loaded.desired, documentsRead: loaded.documentsRead)
                for warning in loaded.warnings { logger.warning("\(warning)") }
            } catch let invalid as InvalidManifests {
                for diagnostic in invalid.diagnostics where diagnostic.severity == .error { logger.error("\(diagnostic)") }
                let count = invalid.diagnostics.filter { $0.severity == .error }.count
                logger.error("the manifests have \(count) error(s); keeping the running state\(lastGood == nil ? "" : " and the last valid manifests")")
                ServiceNotifier.notify("STATUS=manifests invalid: \(count) error(s); last good state kept")
                if lastGood == nil { report(started, succeeded: false, remaining: nil, applied: 0); return }
            } catch {
                logger.error("cannot read the manifests: \(error)")
                if lastGood == nil { report(started, succeeded: false, remaining: nil, applied: 0); return }
            }
        }
        let lock = reconciler.lock()
        do {
            try lock.acquire(timeout: settings.lockTimeout)
            defer { lock.release() }
            if let candidate, candidate.desired != lastGood, let held = try consider(candidate), lastGood == nil {
                // Nothing accepted yet: nothing to enforce until the held-back set is confirmed.
                report(started, succeeded: true, remaining: held, applied: 0)
                return
            }
            guard let desired = lastGood else { return }
            var quick = linksOnly && lastObserved != nil && inSyncAtLastFullLook
            // The links to read again in a quick round: those the events named, then also those it changed.
            var names = touched
            touched = []
            // What the events until the next round are checked against, from this round's last look: worked out
            // once the round is over, outside the time from an event to its repair.
            defer {
                if let observed = lastObserved {
                    namesByIndex = Dictionary(observed.links.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
                    interest = Planner.linksOfInterest(referenced: referenced, observed)
                }
            }
            func look(tables: HostDrivers.PendingTables? = nil) throws -> (Plan, ObservedState) {
                if quick { tables?.settle() }
                let (plan, observed) = try quick ? reconciler.planLinks(desired, updating: lastObserved!, only: names)
                    : reconciler.plan(desired, observing: reconciler.drivers.beginObserving(tables: tables), holdingLock: true)
                if !quick { inSyncAtLastFullLook = plan.isInSync }
                lastObserved = observed
                return (plan, observed)
            }
            let (plan, _) = try look()
            for conflict in plan.conflicts { logger.error("conflict: \(conflict)") }
            let context = plan.changes.isEmpty ? nil : reconciler.context()
            let logger = self.logger
            let source = GuardPolicy.Source(documentCount: desired.documentCount, documentsRead: desired.documentCount,
                                            host: reconciler.target.hostName)
            // The accepted set passed the policy when it was read; what the host does since is repaired, except
            // a plan the policy refuses now (everything owned would go: refused, reported, nothing changed).
            if let refusal = settings.guards.withoutShareLimit.refusal(plan, observed: lastObserved!, source: source) {
                logger.error("refusing this round: \(refusal); nothing was changed")
                report(started, succeeded: true, remaining: plan, applied: 0)
                return
            }
            let outcome = try reconciler.converge(plan, guards: settings.guards.withoutShareLimit, source: source,
                                                  readTablesBack: { plan in !(quick && plan.changes.allSatisfy { $0.operation.isLinkAction }) },
                                                  progress: { _, change in
                logger.info("\(change.summary)", metadata: ["action": "\(change.action.rawValue)", "resource": "\(change.resource)",
                                                            "commit": "\(context?.gitCommit ?? "none")"])
            }) { executed, result in
                monitor.drain()
                // Checked by a full look unless every change was a link's (a unit started, a table replaced: the
                // last look's units and tables are out of date).
                quick = quick && executed.changes.allSatisfy { $0.operation.isLinkAction }
                names?.formUnion(executed.changes.compactMap { $0.operation.linkName })
                return try look(tables: result.tables)
            }
            for report in outcome.stops {
                logger.info("\(report.unit): \(report.stop.summary)", metadata: ["unit": "\(report.unit)", "stop": "\(report.stop.outcome.rawValue)"])
            }
            if let refusal = outcome.refusal { logger.error("stopped repairing: \(refusal)") }
            let remaining = outcome.remaining, applied = outcome.completed
            let milliseconds = Int(Date().timeIntervalSince(started) * 1000)
            let state = remaining.isInSync ? "in sync" : "\(remaining.changes.count) change(s) left, \(remaining.conflicts.count) conflict(s)"
            if applied > 0 || !remaining.isInSync {
                logger.info("reconciled (\(reason)): \(applied) change(s) in \(milliseconds) ms; \(state)")
            } else {
                logger.debug("checked (\(reason)) in \(milliseconds) ms; in sync")
            }
            ServiceNotifier.notify("STATUS=\(state); \(applied) change(s) applied in the last round (\(reason)); \(reconciles) rounds")
            appliedTotal += applied
            report(started, succeeded: true, remaining: remaining, applied: applied)
        } catch {
            // The next round looks at everything: what this one read may be out of date.
            inSyncAtLastFullLook = false
            logger.error("reconcile (\(reason)) failed: \(error)")
            ServiceNotifier.notify("STATUS=last reconcile failed: \(error)")
            report(started, succeeded: false, remaining: nil, applied: 0)
        }
    }
}
