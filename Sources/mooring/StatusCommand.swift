import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringPlan
import MooringPlanner
import MooringReports

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List what mooring owns now (links, the nftables table, MicroVM units) and whether each matches.",
        discussion: "Exit code: 0 all in sync, 2 drift, 1 error."
    )

    @OptionGroup var options: TargetOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func run() throws {
        try runCommand {
            let reconciler = try Reconciler(target: options.target)
            let (_, plan, observed) = try reconciler.loadAndPlan()
            let report = StatusReport(observed: observed, plan: plan)
            switch output {
            case .text:
                print("Manifests: \(reconciler.context().sourceLine)")
                print(report.text(), terminator: "")
            case .json: print(JSONRenderer.render(report.json), terminator: "")
            }
            return report.inSync ? MooringExit.inSync : MooringExit.drift
        }
    }
}
