import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringReports

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show how the host differs from the manifests (a dry run; changes nothing, takes no lock).",
        discussion: "Exit code: 0 in sync, 2 drift found, 1 error, 3 no drift found but not everything could be checked (the report says what)."
    )

    @OptionGroup var options: TargetOptions

    @OptionGroup var display: DisplayOptions
    @OptionGroup var metrics: MetricsOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Also save the plan, with fingerprints of what it was made from, for `mooring apply --plan FILE`.")
    var out: String?

    func run() throws {
        // Under systemd (the drift timer's unit) every difference also goes to the journal with MOORING_* fields.
        let underJournal = LoggingSetup.stderrIsJournal()
        let logger = logging.bootstrap(default: underJournal ? .info : .warning, colored: display.stderr.colored)
        let sink = MetricsSink(metrics, command: "plan")
        try runCommand(display, command: "plan", payloadKeys: PlanJSON.keys, metrics: sink) {
            let reconciler = try Reconciler(target: options.target)
            var events = ReconcileRound.Events()
            events.warnings = { Reporting.warnings($0, style: display.stderr) }
            guard case let .planned(round) = try ReconcileRound(mode: .plan).run(on: reconciler, events: events) else { return MooringExit.error }
            var plan = round.plan
            let context = round.context
            if let refusal = round.refusal, let flag = refusal.flag {
                plan.warnings.append("apply refuses it without \(flag): \(refusal)")
            }
            switch display.output {
            case .text: print(TextRenderer(style: display.stdout).render(plan: plan, context: context), terminator: "")
            case .json: print(JSONRenderer.render(PlanJSON.report(plan, context: context, diagnostics: round.loaded.warnings)), terminator: "")
            }
            if let out {
                try JSONRenderer.render(round.saved.json).write(toFile: out, atomically: true, encoding: .utf8)
                if !display.json { print("Saved to \(out); run `mooring apply --plan \(out)` to execute exactly this plan.") }
            }
            sink.succeeded(remaining: plan, microVMs: MetricsReport.MicroVMState.of(round.loaded.desired, round.observed))
            if underJournal {
                let commit = context.gitCommit ?? "none"
                for change in plan.changes {
                    logger.notice("drift: \(change.summary)", metadata: ["action": "\(change.action.rawValue)", "resource": "\(change.resource)",
                                                                         "commit": "\(commit)"])
                }
                for conflict in plan.conflicts { logger.error("conflict: \(conflict.message)", metadata: ["resource": "\(conflict.resource)"]) }
                // What `systemctl status` shows as the unit's Status: drift reads as drift, not as the exit code's
                // name (exit 2 is "2/INVALIDARGUMENT" there).
                ServiceNotifier.notify("STATUS=\(plan.isInSync ? "in sync" : "drift"): \(plan.changes.count) change(s), \(plan.conflicts.count) conflict(s)"
                                       + (plan.changes.first.map { "; first: \($0.summary)" } ?? ""))
                logger.notice("\(plan.isInSync ? "in sync" : "drift"): \(plan.changes.count) change(s), \(plan.conflicts.count) conflict(s)",
                              metadata: ["drift": "\(plan.changes.count)", "conflicts": "\(plan.conflicts.count)", "commit": "\(commit)"])
            }
            if !plan.conflicts.isEmpty { return MooringExit.error }
            if !plan.changes.isEmpty { return MooringExit.drift }
            return plan.isInSync ? MooringExit.inSync : MooringExit.notConverged
        }
    }
}
