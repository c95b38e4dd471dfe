import ArgumentParser
import Foundation
import MooringDrivers
import MooringPlan
import MooringReports

/// `--metrics-file`: after the command, its result in Prometheus's text format for the node exporter's textfile
/// collector (docs/operations.md, "Metrics").
struct MetricsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write the result as Prometheus metrics to this file (replaced atomically), e.g. /var/lib/prometheus/node-exporter/mooring.prom.",
                               valueName: "path"))
    var metricsFile: String?
}

/// Times one command and writes its metrics when it ends, whether it succeeded or failed.
final class MetricsSink: @unchecked Sendable {
    private let path: String?
    private let command: String
    private let started = Date()
    private var written = false

    init(_ options: MetricsOptions, command: String) {
        path = options.metricsFile
        self.command = command
    }

    func succeeded(remaining: Plan, applied: Int = 0, microVMs: [String: MetricsReport.MicroVMState]? = nil) {
        write(succeeded: true, remaining: remaining, applied: applied, microVMs: microVMs)
    }

    /// A failure, unless the command already reported how it went (a conflict exits 1 after a full report).
    func failed() { if !written { write(succeeded: false, remaining: nil, applied: 0) } }

    private func write(succeeded: Bool, remaining: Plan?, applied: Int, microVMs: [String: MetricsReport.MicroVMState]? = nil) {
        written = true
        guard let path else { return }
        let now = Date()
        let round = MetricsReport.Round(command: command, finished: now.timeIntervalSince1970,
                                        durationSeconds: now.timeIntervalSince(started), succeeded: succeeded,
                                        remaining: remaining, applied: applied, microVMs: microVMs)
        var report = MetricsReport(round: round, lastSuccess: MetricsReport.lastSuccess(in: MetricsFile.read(path), command: command))
        report.build = (Version.number, Version.commit)
        do { try MetricsFile.write(report.text, to: path) } catch { Terminal.printError("warning: \(error)") }
    }
}
