import ArgumentParser
import Foundation
import Logging
import MooringDrivers
import MooringEngine

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Converge, then keep the host converged: repair drift as netlink and the manifests report it.",
        discussion: """
            For a Type=notify service (units/mooring.service): READY=1 after the first reconcile, STATUS= after \
            each, WATCHDOG=1 when WatchdogSec= is set. Stops cleanly on SIGTERM.
            """
    )

    @OptionGroup var options: TargetOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Full resync period, for what no event reports (nftables, units).")
    var resync = DurationArgument(seconds: 300)

    @Option(help: "How long to gather a burst of events into one reconcile.")
    var debounce = DurationArgument(seconds: 0.02)

    func run() throws {
        // Before any thread exists, so every thread leaves SIGTERM to the loop's signalfd.
        StopSignals.block()
        let logger = logging.bootstrap(default: .info)
        try runCommand {
            let reconciler = try Reconciler(target: options.target)
            logger.info("watching \(options.directory)\(options.netns.map { " for netns \($0)" } ?? ""); resync every \(resync)")
            let loop = WatchLoop(reconciler: reconciler,
                                 settings: WatchLoop.Settings(debounce: debounce.seconds, resync: resync.seconds,
                                                              lockTimeout: mutation.lockTimeout, allowEmpty: mutation.allowEmpty),
                                 logger: logger)
            try loop.run()
            return 0
        }
    }
}
