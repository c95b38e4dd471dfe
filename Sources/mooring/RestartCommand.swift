import ArgumentParser
import Foundation
import MooringEngine
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

    @Flag(help: "Restart them a few at a time (--max-unavailable), each batch running again before the next goes down.")
    var rolling = false

    @Option(help: "With --rolling: how many MicroVMs may be down at once.")
    var maxUnavailable = 1

    @OptionGroup var options: TargetOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var display: DisplayOptions
    @OptionGroup var metrics: MetricsOptions

    func validate() throws {
        if all == !microVMs.isEmpty { throw ValidationError("name the MicroVMs to restart, or give --all") }
        if maxUnavailable < 1 { throw ValidationError("--max-unavailable wants at least 1") }
        if !rolling && maxUnavailable != 1 { throw ValidationError("--max-unavailable goes with --rolling") }
    }

    func run() throws {
        guard rolling else { return try apply(all ? .all : .named(Set(microVMs))) }
        // One apply per batch, in name order: each waits until its VMs run again (QMP `running` for QEMU) before
        // the next batch goes down. Names come from the manifests as they are now.
        var names = microVMs.sorted()
        if all {
            var round: ReconcileRound.Outcome?
            try runCommand(display) {
                round = try ReconcileRound(mode: .plan).run(on: try Reconciler(target: options.target))
                return 0
            }
            guard case let .planned(planned) = round else { return }
            names = planned.loaded.desired.microVMs.filter { $0.vmm != .none }.map(\.name).sorted()
        }
        for start in stride(from: 0, to: names.count, by: maxUnavailable) {
            let batch = Array(names[start..<min(names.count, start + maxUnavailable)])
            if !display.json { print("Restarting \(batch.joined(separator: ", ")) (\(start + batch.count) of \(names.count)):") }
            try apply(.named(Set(batch)))
        }
    }

    /// An apply that restarts `selection`.
    private func apply(_ selection: MicroVMSelection) throws {
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
        apply.restart = selection
        try apply.run()
    }
}
