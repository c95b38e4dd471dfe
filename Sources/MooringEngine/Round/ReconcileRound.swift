import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports

/// One reconcile round, the only owner of its order: lock -> load -> observe -> plan -> guard policy ->
/// execute -> verify (with repairs) -> an outcome value. `plan`, `status`, `apply` and `apply --try` (and its
/// revert) are configurations of it; each `mooring run` round goes through the same guard policy and the same
/// execute-and-verify loop (`Reconciler.converge`). The CLI parses arguments, renders the events and the
/// outcome, and maps the outcome to an exit code.
public struct ReconcileRound {
    public enum Mode: Sendable {
        /// Look and plan only: no lock, nothing changed (plan, status).
        case plan
        /// Apply and verify.
        case apply
        /// Apply, then keep it only if confirmed in time (and the probes pass); else put the host back.
        case trial(Trial.Settings)
    }

    public var mode: Mode
    public var guards: GuardPolicy
    /// `apply --plan FILE`: execute only if a fresh plan is exactly this one.
    public var savedPlan: SavedPlan?
    /// How long to wait for another apply or watch round to release the lock.
    public var lockTimeout: Double
    /// `mooring restart`: these running MicroVMs are restarted by this round's plan (its first only: the look
    /// that verifies does not restart them again).
    public var restart: MicroVMSelection = .none

    public init(mode: Mode, guards: GuardPolicy = GuardPolicy(), savedPlan: SavedPlan? = nil, lockTimeout: Double = 60) {
        self.mode = mode
        self.guards = guards
        self.savedPlan = savedPlan
        self.lockTimeout = lockTimeout
        if case .trial = mode { self.guards.refuseIrreversible = true }
    }

    /// What the round tells its caller while it runs, in order.
    public struct Events {
        /// The manifests' warnings, once they are loaded.
        public var warnings: ([Diagnostic]) -> Void = { _ in }
        /// The plan about to be executed (not called when the round stops before executing).
        public var executing: (Plan, ReportContext) -> Void = { _, _ in }
        /// Each change once it is done, with the report header (its commit goes into the journal).
        public var changed: @Sendable (Change, ReportContext) -> Void = { _, _ in }
        /// The apply is done and verified; a trial starts waiting next.
        public var applied: (Reconciler.ApplyOutcome) -> Void = { _ in }
        /// The apply failed half-way; a trial puts the host back next.
        public var failed: (ExecutionError) -> Void = { _ in }
        /// A trial waits now, with these settings.
        public var waiting: (Trial.Settings) -> Void = { _ in }
        /// A trial's events (a failed probe, a confirmation, each revert step).
        public var trialSays: @Sendable (String) -> Void = { _ in }

        public init() {}
    }

    /// What the round looked at and planned.
    public struct Planned: Sendable {
        public var loaded: Reconciler.Loaded
        public var plan: Plan
        public var observed: ObservedState
        public var context: ReportContext
        /// What an apply with the default policy would refuse (`plan` reports it as a warning).
        public var refusal: GuardRefusal?

        /// The plan with what was observed and read, for `apply --plan FILE`.
        public var saved: SavedPlan {
            SavedPlan(plan: plan, context: context, manifestsFingerprint: Fingerprint.desired(loaded.desired),
                      observedFingerprint: Fingerprint.observed(observed, for: loaded.desired))
        }
    }

    public enum Outcome: Sendable {
        /// `.plan`: looked and planned.
        case planned(Planned)
        /// The guard policy refused the plan: nothing was changed.
        case refused(Planned, GuardRefusal)
        /// `--plan FILE` is not what would be done now: nothing was changed.
        case savedPlanDiffers(Planned, [String])
        /// Applied and verified; a trial's verdict with `.trial`.
        case applied(Planned, Reconciler.ApplyOutcome, Trial.Outcome?)
        /// A trial's apply failed half-way and was put back.
        case failedAndPutBack(Planned, ExecutionError, Trial.Outcome)
    }

    public func run(on reconciler: Reconciler, events: Events = Events()) throws -> Outcome {
        let changes: Bool
        if case .plan = mode { changes = false } else { changes = true }
        // Observe, plan and apply under the lock, so two applies never interleave.
        let lock = changes ? reconciler.lock() : nil
        try lock?.acquire(timeout: lockTimeout)
        defer { lock?.release() }
        let pendingContext = reconciler.beginContext()
        let (loaded, plan, observed) = try reconciler.loadAndPlan(holdingLock: changes, restart: restart)
        if case let .named(names) = restart {
            let unknown = names.subtracting(loaded.desired.microVMs.map(\.name)).sorted()
            if !unknown.isEmpty { throw RoundError("no MicroVM named \(unknown.joined(separator: ", ")) in the manifests: nothing was changed") }
        }
        events.warnings(loaded.warnings)
        let context = try pendingContext.wait()
        let source = GuardPolicy.Source(documentCount: loaded.desired.documentCount, documentsRead: loaded.documentsRead,
                                        host: reconciler.target.hostName)
        let refusal = guards.refusal(plan, observed: observed, source: source)
        let planned = Planned(loaded: loaded, plan: plan, observed: observed, context: context, refusal: refusal)
        guard changes else { return .planned(planned) }
        if let savedPlan, let reasons = savedPlan.differences(manifests: Fingerprint.desired(loaded.desired),
                                                              observed: Fingerprint.observed(observed, for: loaded.desired), freshPlan: plan) {
            return .savedPlanDiffers(planned, reasons)
        }
        if let refusal { return .refused(planned, refusal) }
        events.executing(plan, context)

        // A trial with nothing to change has nothing to wait for.
        var trial: (Trial, StopSignals)?
        if case let .trial(settings) = mode, !plan.changes.isEmpty {
            trial = (Trial(reconciler: reconciler, before: observed, tried: plan, settings: settings), try StopSignals(Trial.signals))
        }
        let changed = events.changed
        let outcome: Reconciler.ApplyOutcome
        do {
            outcome = try reconciler.converge(plan, guards: guards, source: source, progress: { _, change in changed(change, context) }) { _, executed in
                try reconciler.plan(loaded.desired, observing: reconciler.drivers.beginObserving(tables: executed.tables), holdingLock: true)
            }
        } catch let error as ExecutionError {
            // A trial that failed half-way is put back too.
            guard let (trial, signals) = trial else { throw error }
            events.failed(error)
            let verdict = try trial.revert(because: "the apply failed", say: events.trialSays, signals: signals)
            return .failedAndPutBack(planned, error, verdict)
        }
        events.applied(outcome)
        guard let (trial, signals) = trial else { return .applied(planned, outcome, nil) }
        events.waiting(trial.settings)
        return .applied(planned, outcome, try trial.wait(signals: signals, say: events.trialSays))
    }
}

/// A round that cannot go ahead as asked; nothing was changed.
public struct RoundError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
