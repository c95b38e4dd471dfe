import ArgumentParser
import Foundation
import Logging
import MooringDrivers
import MooringEngine
import MooringPlan
import MooringReports

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Converge, then keep the host converged: repair drift as netlink and the manifests report it.",
        discussion: """
            For a Type=notify service (units/mooring.service): READY=1 after the first reconcile, STATUS= after \
            each, WATCHDOG=1 when WatchdogSec= is set. Stops cleanly on SIGTERM; SIGHUP (systemctl reload) reads \
            the manifests again and applies them at once.
            """
    )

    @OptionGroup var options: TargetOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var metrics: MetricsOptions

    @Option(help: "auto, always or never: colour the level of each log line on a terminal (auto: not when NO_COLOR is set; never under journald).")
    var color: TextStyle.Choice = .auto

    @Option(help: ArgumentHelp("Serve the metrics at http://ADDRESS/metrics for Prometheus, e.g. 127.0.0.1:9840 or [::1]:9840.",
                               valueName: "address"))
    var metricsAddress: String?

    @Option(help: "Full resync period, for what no event reports (nftables, units).")
    var resync = DurationArgument(seconds: 300)

    @Option(help: "How long to gather a burst of events into one reconcile.")
    var debounce = DurationArgument(seconds: 0.02)

    @Option(help: "How long the manifests must be quiet, with no file half-written, before they are read.")
    var settle = DurationArgument(seconds: 1)

    @Option(help: ArgumentHelp("The largest share (percent) of owned objects one manifest edit may delete before it is held back as suspicious; 100 turns the guard off.",
                               discussion: "Deleting 5 objects or fewer is never held back. Confirm a held-back removal with `mooring apply`, or start with --allow-large-drop."))
    var maxDrop: Double = 10

    func validate() throws {
        guard (0...100).contains(maxDrop) else { throw ValidationError("--max-drop is a percentage, 0 to 100") }
        // Refused before anything starts, not after the first round.
        if let metricsAddress {
            do { _ = try MetricsServer.socketAddress(metricsAddress) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        // Before any thread exists, so every thread leaves SIGTERM to the loop's signalfd.
        StopSignals.block(StopSignals.watching)
        let logger = logging.bootstrap(default: .info, colored: TextStyle.choose(color, isTerminal: isatty(STDERR_FILENO) == 1,
                                                                               environment: ProcessInfo.processInfo.environment).colored)
        try runCommand {
            let reconciler = try Reconciler(target: options.target)
            logger.info("watching \(options.directory)\(options.netns.map { " for netns \($0)" } ?? ""); resync every \(resync)")
            let loop = WatchLoop(reconciler: reconciler,
                                 settings: WatchLoop.Settings(debounce: debounce.seconds, resync: resync.seconds,
                                                              lockTimeout: mutation.lockTimeout, guards: mutation.guards(maxDrop: maxDrop),
                                                              settle: settle.seconds),
                                 logger: logger)
            let server = try metricsAddress.map { address in
                let server = MetricsServer()
                try server.start(address)
                logger.info("serving metrics at http://\(address)/metrics")
                return server
            }
            let file = metrics.metricsFile
            if server != nil || file != nil {
                loop.onRound = { report in
                    var report = report
                    report.build = (Version.number, Version.commit)
                    let text = report.text
                    server?.text = text
                    if let file {
                        do { try MetricsFile.write(text, to: file) } catch { logger.warning("\(error)") }
                    }
                }
            }
            try loop.run()
            return 0
        }
    }
}
