import ArgumentParser
import Foundation
import Logging
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
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

    @Option(help: ArgumentHelp("The largest share (percent) of owned objects this apply may delete without --allow-large-drop (e.g. 10 for a timer's unattended applies); 100, the default, sets no limit.",
                               discussion: "Deleting 5 objects or fewer is never refused."))
    var maxDrop: Double = 100

    /// `mooring restart`: running MicroVMs this apply restarts (RestartCommand sets it; not an option of apply).
    var restart: MicroVMSelection = .none

    private enum CodingKeys: String, CodingKey {
        case options, mutation, logging, display, metrics, plan, trial, probe, keepIfProbesPass, maxDrop
    }

    func validate() throws {
        if trial == nil && (!probe.isEmpty || keepIfProbesPass) { throw ValidationError("--probe and --keep-if-probes-pass go with --try DURATION") }
        if keepIfProbesPass && probe.isEmpty { throw ValidationError("--keep-if-probes-pass needs at least one --probe") }
        if let trial, trial.seconds < 1 { throw ValidationError("--try wants at least 1s to confirm in") }
        guard (0...100).contains(maxDrop) else { throw ValidationError("--max-drop is a percentage, 0 to 100") }
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
            let saved = try self.plan.map(Self.savedPlan)
            let mode: ReconcileRound.Mode = trial.map { duration in
                .trial(Trial.Settings(duration: duration.seconds, probes: probe.map(\.probe), keepIfProbesPass: keepIfProbesPass))
            } ?? .apply
            var round = ReconcileRound(mode: mode, guards: mutation.guards(maxDrop: maxDrop), savedPlan: saved, lockTimeout: mutation.lockTimeout)
            round.restart = restart
            let text = TextRenderer(style: display.stdout)
            let verbose = !display.json && !underJournal
            let json = display.json
            let say: @Sendable (String) -> Void = { line in
                if json { Terminal.printError(line) } else { print(line) }
            }
            var started = Date()
            var events = ReconcileRound.Events()
            events.warnings = { Reporting.warnings($0, style: display.stderr) }
            events.executing = { plan, context in
                if verbose {
                    print("Manifests: \(context.sourceLine)")
                    for warning in plan.warnings { print("warning: \(warning)") }
                    if plan.changes.isEmpty && plan.isInSync { print("No changes: the host matches the manifests.") }
                }
                started = Date()
            }
            events.changed = { change, context in
                if verbose { print("  " + TextRenderer.sign(change.action) + " " + change.summary) }
                logger.info("\(change.summary)", metadata: ["action": "\(change.action.rawValue)",
                                                            "resource": "\(change.resource)", "commit": "\(context.gitCommit ?? "none")"])
            }
            events.failed = { error in Terminal.printError("error: \(error)") }
            events.applied = { outcome in
                let elapsed = Int(Date().timeIntervalSince(started) * 1000)
                for report in outcome.stops {
                    logger.info("\(report.unit): \(report.stop.summary)", metadata: ["unit": "\(report.unit)", "stop": "\(report.stop.outcome.rawValue)"])
                }
                if let refusal = outcome.refusal { for line in refusal.lines { Terminal.printError(line) } }
                guard !json else { return }
                if !outcome.plan.changes.isEmpty { print(text.appliedLine(outcome.plan.summary, milliseconds: elapsed)) }
                for report in outcome.stops { print("  stopped \(report.microVM ?? report.unit): \(report.stop.summary)") }
                if !outcome.converged && outcome.remaining.changes.isEmpty && outcome.remaining.conflicts.isEmpty {
                    print("Not everything could be checked, so mooring cannot say the host matches the manifests:")
                    print(text.uncheckedLines(outcome.remaining).joined(separator: "\n"))
                } else if !outcome.converged {
                    print("The host still differs from the manifests after applying:")
                    print(text.render(plan: outcome.remaining, context: nil), terminator: "")
                } else if !outcome.plan.changes.isEmpty {
                    print("The host matches the manifests.")
                }
            }
            events.waiting = { settings in announce(settings, say: say, logger: logger) }
            events.trialSays = { line in
                say(line)
                logger.notice("\(line)")
            }
            switch try round.run(on: reconciler, events: events) {
            case .planned:
                return MooringExit.error
            case let .savedPlanDiffers(planned, reasons):
                let message = "refusing to apply \(self.plan ?? ""):\n" + reasons.joined(separator: "\n")
                Terminal.printError(message)
                refusedDocument(planned, message, json: json)
                return MooringExit.error
            case let .refused(planned, refusal):
                for line in refusal.lines { Terminal.printError(line) }
                refusedDocument(planned, refusal.lines.joined(separator: "\n"), json: json)
                return MooringExit.error
            case let .failedAndPutBack(planned, error, verdict):
                if json {
                    print(JSONRenderer.render(Self.report(plan: planned.plan, context: planned.context, outcome: nil, verdict: verdict,
                                                          diagnostics: planned.loaded.warnings, error: "\(error)")), terminator: "")
                }
                return report(verdict, json: json)
            case let .applied(planned, outcome, verdict):
                sink.succeeded(remaining: outcome.remaining, applied: outcome.completed,
                               microVMs: MetricsReport.MicroVMState.of(planned.loaded.desired, outcome.observed ?? planned.observed))
                if json {
                    print(JSONRenderer.render(Self.report(plan: planned.plan, context: planned.context, outcome: outcome, verdict: verdict,
                                                          diagnostics: planned.loaded.warnings)), terminator: "")
                }
                if let verdict {
                    let code = report(verdict, json: json)
                    if code != MooringExit.inSync { return code }
                }
                // A conflict held its own changes back while the rest was applied: that is still an error to fix;
                // so is a repair the guard policy stopped.
                if !outcome.remaining.conflicts.isEmpty || outcome.refusal != nil { return MooringExit.error }
                return outcome.converged ? MooringExit.inSync : MooringExit.notConverged
            }
        }
    }

    static let payloadKeys = ["plan", "applied", "converged", "remaining", "stops", "trial"]

    /// With `--output json`, a refused apply still prints one document: its fields null, `error` saying why.
    private func refusedDocument(_ planned: ReconcileRound.Planned, _ error: String, json: Bool) {
        guard json else { return }
        print(JSONRenderer.render(JSONEnvelope.failure(command: "apply", payloadKeys: Self.payloadKeys, diagnostics: planned.loaded.warnings,
                                                       error: error)), terminator: "")
    }

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

    /// `--plan FILE`, read as a file root trusts (TrustedFile). The round executes the fresh plan only when it is
    /// exactly this one; the file's actions are never executed themselves (SavedPlan).
    private static func savedPlan(_ path: String) throws -> SavedPlan {
        let data = try TrustedFile.read(path, what: "saved plan")
        guard let saved = SavedPlan(text: String(decoding: data, as: UTF8.self)) else {
            throw ValidationError("\(path) is not a plan saved by `mooring plan --out` (format \(SavedPlan.formatVersion))")
        }
        return saved
    }
}
