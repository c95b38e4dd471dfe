import ArgumentParser
import Foundation
import MooringPlan

/// `mooring restart VM...` / `--all`: restarts running MicroVMs through the stop ladder (the guest's power
/// button, then its timeout), so a VM picks up host-side policy a newer mooring brought (its sandbox, its stop
/// command) on the operator's terms: an upgrade of mooring itself restarts no VM. It is an apply: the rest of
/// the manifests is applied too, under the same lock and guard policy.
struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart running MicroVMs (gracefully), applying the manifests as apply does.",
        discussion: "Exit codes as apply's. A VM that is not running is started by the apply as usual."
    )

    @Argument(help: ArgumentHelp("The MicroVMs to restart, by name.", valueName: "microvm"))
    var microVMs: [String] = []

    @Flag(help: "Restart every running MicroVM.")
    var all = false

    @OptionGroup var options: TargetOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var display: DisplayOptions
    @OptionGroup var metrics: MetricsOptions

    func validate() throws {
        if all == !microVMs.isEmpty { throw ValidationError("name the MicroVMs to restart, or give --all") }
    }

    func run() throws {
        var apply = ApplyCommand()
        apply.options = options
        apply.mutation = mutation
        apply.logging = logging
        apply.display = display
        apply.metrics = metrics
        // Every option of apply is given a value: an unparsed one cannot be read.
        apply.plan = nil
        apply.trial = nil
        apply.probe = []
        apply.keepIfProbesPass = false
        apply.maxDrop = 100
        apply.restart = all ? .all : .named(Set(microVMs))
        try apply.run()
    }
}
