import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringPlanner

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Change the host to match the manifests, then check that it does.",
        discussion: "Exit code: 0 converged, 1 error, 3 applied but the host still differs."
    )

    @OptionGroup var options: TargetOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func run() throws {
        Terminal.lineBufferStdout()
        do {
            let reconciler = try Reconciler(target: options.target)
            let loaded = try reconciler.load()
            Reporting.warnings(loaded.warnings)
            let (plan, _) = try reconciler.plan(loaded.desired)
            let context = ReportContext(manifestDirectory: options.directory, host: options.host, netns: options.netns)
            let text = TextRenderer(color: Terminal.stdoutIsTerminal)
            guard plan.canApply else {
                if output == .json { print(JSONRenderer.render(ApplyReport(plan: plan, context: context, outcome: nil)), terminator: "") }
                else { print(text.render(plan: plan, context: context), terminator: "") }
                throw ExitCode(MooringExit.error)
            }
            if output == .text {
                print("Manifests: \(context.sourceLine)")
                if plan.changes.isEmpty { print("No changes: the host matches the manifests.") }
            }
            let verbose = output == .text
            let started = Date()
            let outcome = try reconciler.apply(plan, desired: loaded.desired) { _, change in
                if verbose { print("  " + TextRenderer.sign(change.action) + " " + change.summary) }
            }
            let elapsed = Int(Date().timeIntervalSince(started) * 1000)
            switch output {
            case .json:
                print(JSONRenderer.render(ApplyReport(plan: plan, context: context, outcome: outcome)), terminator: "")
            case .text:
                if !plan.changes.isEmpty {
                    print(text.summaryLine(plan.summary, prefix: "Applied") .replacingOccurrences(of: " to ", with: " ")
                          .replacingOccurrences(of: ".", with: "") + " in \(elapsed) ms.")
                }
                if !outcome.converged {
                    print("The host still differs from the manifests after applying:")
                    print(text.render(plan: outcome.remaining, context: nil), terminator: "")
                } else if !plan.changes.isEmpty {
                    print("The host matches the manifests.")
                }
            }
            throw ExitCode(outcome.converged ? MooringExit.inSync : MooringExit.notConverged)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Reporting.fail(error)
        }
    }
}

/// The JSON document `apply --output json` prints: the plan it executed and what remained after.
struct ApplyReport: Codable {
    var formatVersion = PlanReport.currentFormat
    var plan: PlanReport
    var applied: Int?
    var converged: Bool?
    var remaining: PlanReport?

    init(plan: Plan, context: ReportContext, outcome: Reconciler.ApplyOutcome?) {
        self.plan = PlanReport(plan: plan, context: context)
        applied = outcome?.completed
        converged = outcome?.converged
        remaining = outcome.map { PlanReport(plan: $0.remaining, context: nil) }
    }
}
