import ArgumentParser
import Foundation
import Logging
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Change the host to match the manifests, then check that it does.",
        discussion: """
            Exit code: 0 converged, 1 error (including conflicts: what they concern waits, the rest is applied), 3 applied \
            but the host still differs, 4 tried (--try) and put back.

            With --try DURATION the changes are kept only when `mooring confirm` comes within DURATION (from another \
            shell, or after reconnecting: a hang-up does not stop the countdown); otherwise, when a --probe fails 3 \
            times in a row, or on SIGINT/SIGTERM, the host is put back as it was observed before. A SIGKILL leaves the \
            tried state in place.
            """
    )

    @OptionGroup var options: TargetOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var logging: LoggingOptions

    @OptionGroup var display: DisplayOptions
    @OptionGroup var metrics: MetricsOptions

    @Option(help: "Execute exactly this saved plan (`mooring plan --out FILE`); refuse if the host or manifests moved.")
    var plan: String?

    @Option(name: .customLong("try"), help: ArgumentHelp("Keep the changes only if `mooring confirm` comes within this long (30s, 2m); else put the host back.",
                                                        valueName: "duration"))
    var trial: DurationArgument?

    @Option(help: ArgumentHelp("With --try: what the host must keep reaching, tcp:HOST:PORT, ping:HOST or neighbour:IP (an ARP/NDP probe of a directly connected gateway; repeatable); 3 failed rounds in a row put the host back.",
                               valueName: "target"))
    var probe: [ProbeArgument] = []

    @Flag(help: "With --try and --probe: at the end, keep the changes if every probe round passed, without `mooring confirm` (unattended applies).")
    var keepIfProbesPass = false

    func validate() throws {
        if trial == nil && (!probe.isEmpty || keepIfProbesPass) { throw ValidationError("--probe and --keep-if-probes-pass go with --try DURATION") }
        if keepIfProbesPass && probe.isEmpty { throw ValidationError("--keep-if-probes-pass needs at least one --probe") }
        if let trial, trial.seconds < 1 { throw ValidationError("--try wants at least 1s to confirm in") }
    }

    func run() throws {
        // Under systemd (a timer's oneshot) every change goes to the journal with MOORING_* fields;
        // on a terminal the changes are printed and only warnings are logged.
        let underJournal = LoggingSetup.stderrIsJournal()
        let logger = logging.bootstrap(default: underJournal ? .info : .warning, colored: display.stderr.colored)
        // Before any thread exists, so the trial's signals reach its signalfd; a terminal that goes away
        // must not kill the process that would put the host back.
        if trial != nil {
            StopSignals.block(Trial.signals)
            signal(SIGPIPE, SIG_IGN)
        }
        let sink = MetricsSink(metrics, command: "apply")
        try runCommand(display, command: "apply", payloadKeys: Self.payloadKeys, metrics: sink) {
            let reconciler = try Reconciler(target: options.target)
            // Observe, plan and apply under the lock, so two applies never interleave.
            let lock = reconciler.lock()
            try lock.acquire(timeout: mutation.lockTimeout)
            defer { lock.release() }
            let pendingContext = reconciler.beginContext()
            var (loaded, plan, observed) = try reconciler.loadAndPlan()
            Reporting.warnings(loaded.warnings, style: display.stderr)
            let context = try pendingContext.wait()
            if let path = self.plan {
                plan = try savedPlan(path, fresh: plan, observed: observed, desired: loaded.desired)
            }
            try mutation.checkTeardown(plan, observed: observed, loaded: loaded, host: options.target.hostName)
            let irreversible = trial == nil ? [] : RevertPlanner.irreversible(plan, before: observed)
            if !irreversible.isEmpty {
                Terminal.printError("error: --try could not put these changes back, so nothing was changed:")
                for line in irreversible { Terminal.printError("  \(line)") }
                Terminal.printError("apply them without --try first (they cannot cut the host off), then try the rest")
                return MooringExit.error
            }
            let text = TextRenderer(style: display.stdout)
            let verbose = !display.json && !underJournal
            if verbose {
                print("Manifests: \(context.sourceLine)")
                for warning in plan.warnings { print("warning: \(warning)") }
                if plan.changes.isEmpty && plan.isInSync { print("No changes: the host matches the manifests.") }
            }
            let started = Date()
            let commit = context.gitCommit ?? "none"
            let progress: @Sendable (Int, Change) -> Void = { _, change in
                if verbose { print("  " + TextRenderer.sign(change.action) + " " + change.summary) }
                logger.info("\(change.summary)", metadata: ["action": "\(change.action.rawValue)",
                                                            "resource": "\(change.resource)", "commit": "\(commit)"])
            }
            // A trial with nothing to change has nothing to wait for.
            let trialRun = trial.flatMap { duration in plan.changes.isEmpty ? nil : Trial(
                reconciler: reconciler, before: observed, tried: plan,
                settings: Trial.Settings(duration: duration.seconds, probes: probe.map(\.probe), keepIfProbesPass: keepIfProbesPass)) }
            let signals = try trialRun.map { _ in try StopSignals(Trial.signals) }
            let trying = trialRun.flatMap { run in signals.map { (run, $0) } }
            let outcome: Reconciler.ApplyOutcome
            do {
                outcome = try reconciler.apply(plan, desired: loaded.desired, progress: progress)
            } catch let error as ExecutionError {
                // A trial that failed half-way is put back too.
                guard let (trialRun, signals) = trying else { throw error }
                Terminal.printError("error: \(error)")
                let verdict = try trialRun.revert(because: "the apply failed", say: { line in Terminal.printError(line) }, signals: signals)
                if display.json {
                    print(JSONRenderer.render(Self.report(plan: plan, context: context, outcome: nil, verdict: verdict,
                                                          diagnostics: loaded.warnings, error: "\(error)")), terminator: "")
                }
                return report(verdict, json: display.json)
            }
            let elapsed = Int(Date().timeIntervalSince(started) * 1000)
            for report in outcome.stops {
                logger.info("\(report.unit): \(report.stop.summary)", metadata: ["unit": "\(report.unit)", "stop": "\(report.stop.outcome.rawValue)"])
            }
            if !display.json {
                if !plan.changes.isEmpty { print(text.appliedLine(plan.summary, milliseconds: elapsed)) }
                for report in outcome.stops { print("  stopped \(report.microVM ?? report.unit): \(report.stop.summary)") }
                if !outcome.converged && outcome.remaining.changes.isEmpty && outcome.remaining.conflicts.isEmpty {
                    print("Not everything could be checked, so mooring cannot say the host matches the manifests:")
                    print(text.uncheckedLines(outcome.remaining).joined(separator: "\n"))
                } else if !outcome.converged {
                    print("The host still differs from the manifests after applying:")
                    print(text.render(plan: outcome.remaining, context: nil), terminator: "")
                } else if !plan.changes.isEmpty {
                    print("The host matches the manifests.")
                }
            }
            let verdict = try trying.map { try waitForVerdict($0.0, signals: $0.1, json: display.json, logger: logger) }
            sink.succeeded(remaining: outcome.remaining, applied: outcome.completed)
            if display.json {
                print(JSONRenderer.render(Self.report(plan: plan, context: context, outcome: outcome, verdict: verdict,
                                                      diagnostics: loaded.warnings)), terminator: "")
            }
            if let verdict {
                let code = report(verdict, json: display.json)
                if code != MooringExit.inSync { return code }
            }
            // A conflict held its own changes back while the rest was applied: that is still an error to fix.
            if !outcome.remaining.conflicts.isEmpty { return MooringExit.error }
            return outcome.converged ? MooringExit.inSync : MooringExit.notConverged
        }
    }

    static let payloadKeys = ["plan", "applied", "converged", "remaining", "stops", "trial"]

    /// The JSON document `apply --output json` prints: the plan it executed, what remained after, and a trial's
    /// verdict (null without `--try`). Without an outcome (a trial whose apply failed and was put back) the
    /// apply's fields are null and `error` says why.
    static func report(plan: Plan, context: ReportContext, outcome: Reconciler.ApplyOutcome?, verdict: Trial.Outcome?,
                       diagnostics: [Diagnostic], error: String? = nil) -> JSONValue {
        JSONEnvelope.document(command: "apply", payload: [
            ("plan", PlanJSON.body(plan, context: context)),
            ("applied", JSONValue(outcome?.completed)),
            ("converged", outcome.map { .bool($0.converged) } ?? .null),
            ("remaining", outcome.map { PlanJSON.body($0.remaining, context: nil) } ?? .null),
            ("stops", outcome.map { .array($0.stops.map(PlanJSON.stop)) } ?? .null),
            ("trial", verdict.map(Self.trialJSON) ?? .null),
        ], diagnostics: diagnostics, error: error)
    }

    /// The plan to run for `--plan FILE`: the fresh one, when it is exactly the reviewed one; otherwise says
    /// what differs and changes nothing. The file's actions are never executed themselves (SavedPlan).
    private func savedPlan(_ path: String, fresh: Plan, observed: ObservedState, desired: DesiredState) throws -> Plan {
        let data = try TrustedFile.read(path, what: "saved plan")
        guard let saved = SavedPlan(text: String(decoding: data, as: UTF8.self)) else {
            throw ValidationError("\(path) is not a plan saved by `mooring plan --out` (format \(SavedPlan.formatVersion))")
        }
        if let reasons = saved.differences(manifests: Fingerprint.desired(desired),
                                           observed: Fingerprint.observed(observed, for: desired), freshPlan: fresh) {
            Terminal.printError("refusing to apply \(path):\n" + reasons.joined(separator: "\n"))
            throw ExitCode(MooringExit.error)
        }
        return fresh
    }
}
