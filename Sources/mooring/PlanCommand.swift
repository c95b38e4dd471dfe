import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringPlanner

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show how the host differs from the manifests (a dry run; changes nothing).",
        discussion: "Exit code: 0 in sync, 2 drift found, 1 error."
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
            switch output {
            case .text: print(TextRenderer(color: Terminal.stdoutIsTerminal).render(plan: plan, context: context), terminator: "")
            case .json: print(JSONRenderer.render(PlanReport(plan: plan, context: context)), terminator: "")
            }
            if !plan.conflicts.isEmpty { throw ExitCode(MooringExit.error) }
            throw ExitCode(plan.isInSync ? MooringExit.inSync : MooringExit.drift)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Reporting.fail(error)
        }
    }
}
