import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringPlan
import MooringReports

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List what mooring owns now (links, the nftables table, MicroVM units) and whether each matches.",
        discussion: "Exit code: 0 all in sync, 2 drift, 1 error."
    )

    @OptionGroup var options: TargetOptions

    @OptionGroup var display: DisplayOptions

    func run() throws {
        try runCommand(display, command: "status", payloadKeys: ["inSync", "rows"]) {
            let reconciler = try Reconciler(target: options.target)
            guard case let .planned(round) = try ReconcileRound(mode: .plan).run(on: reconciler) else { return MooringExit.error }
            let report = StatusReport(observed: round.observed, plan: round.plan)
            switch display.output {
            case .text:
                print("Manifests: \(round.context.sourceLine)")
                print(report.text(), terminator: "")
            case .json:
                guard case let .object(fields) = report.json else { break }
                print(JSONRenderer.render(JSONEnvelope.document(command: "status", payload: fields, diagnostics: round.loaded.warnings)), terminator: "")
            }
            return report.inSync ? MooringExit.inSync : MooringExit.drift
        }
    }
}
