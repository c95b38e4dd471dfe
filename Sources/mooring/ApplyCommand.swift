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
        discussion: "Exit code: 0 converged, 1 error (including conflicts: what they concern waits, the rest is applied), 3 applied but the host still differs."
    )

    @OptionGroup var options: TargetOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    @Option(help: "Execute exactly this saved plan (`mooring plan --out FILE`); refuse if the host or manifests moved.")
    var plan: String?

    func run() throws {
        // Under systemd (a timer's oneshot) every change goes to the journal with MOORING_* fields;
        // on a terminal the changes are printed and only warnings are logged.
        let underJournal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        let logger = logging.bootstrap(default: underJournal ? .info : .warning)
        try runCommand {
            let reconciler = try Reconciler(target: options.target)
            // Observe, plan and apply under the lock, so two applies never interleave.
            let lock = reconciler.lock()
            try lock.acquire(timeout: mutation.lockTimeout)
            defer { lock.release() }
            let pendingContext = reconciler.beginContext()
            var (loaded, plan, observed) = try reconciler.loadAndPlan()
            Reporting.warnings(loaded.warnings)
            let context = try pendingContext.wait()
            if let path = self.plan {
                plan = try savedPlan(path, fresh: plan, observed: observed, desired: loaded.desired)
            }
            try mutation.checkTeardown(plan, observed: observed, loaded: loaded, host: options.target.hostName)
            let text = TextRenderer(color: Terminal.stdoutIsTerminal)
            let verbose = output == .text && !underJournal
            if verbose {
                print("Manifests: \(context.sourceLine)")
                for warning in plan.warnings { print("warning: \(warning)") }
                if plan.changes.isEmpty && plan.isInSync { print("No changes: the host matches the manifests.") }
            }
            let started = Date()
            let commit = context.gitCommit ?? "none"
            let outcome = try reconciler.apply(plan, desired: loaded.desired) { _, change in
                if verbose { print("  " + TextRenderer.sign(change.action) + " " + change.summary) }
                logger.info("\(change.summary)", metadata: ["action": "\(change.action.rawValue)",
                                                            "resource": "\(change.resource)", "commit": "\(commit)"])
            }
            let elapsed = Int(Date().timeIntervalSince(started) * 1000)
            for report in outcome.stops {
                logger.info("\(report.unit): \(report.stop.summary)", metadata: ["unit": "\(report.unit)", "stop": "\(report.stop.outcome.rawValue)"])
            }
            switch output {
            case .json:
                print(JSONRenderer.render(Self.report(plan: plan, context: context, outcome: outcome)), terminator: "")
            case .text:
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
            // A conflict held its own changes back while the rest was applied: that is still an error to fix.
            if !outcome.remaining.conflicts.isEmpty { return MooringExit.error }
            return outcome.converged ? MooringExit.inSync : MooringExit.notConverged
        }
    }

    /// The JSON document `apply --output json` prints: the plan it executed and what remained after.
    static func report(plan: Plan, context: ReportContext, outcome: Reconciler.ApplyOutcome) -> JSONValue {
        ["formatVersion": JSONValue(PlanJSON.formatVersion), "plan": PlanJSON.report(plan, context: context),
         "applied": JSONValue(outcome.completed), "converged": .bool(outcome.converged),
         "remaining": PlanJSON.report(outcome.remaining, context: nil),
         "stops": .array(outcome.stops.map(PlanJSON.stop))]
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
