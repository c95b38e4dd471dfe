import MooringModel
import MooringPlan
import Prometheus

/// What monitoring reads about mooring, in Prometheus's text format (swift-prometheus writes it): for the
/// node exporter's textfile collector (`--metrics-file`, after `plan`, `apply` or each `run` round) and for
/// `run --metrics-address`'s /metrics. docs/operations.md, "Metrics", has alert rules built on these.
public struct MetricsReport: Sendable {
    /// One command's (or one `run` round's) result.
    public struct Round: Sendable {
        public var command: String
        /// Unix time the round finished.
        public var finished: Double
        public var durationSeconds: Double
        /// Whether it ran to the end (drift left over is not a failure: `converged` says that).
        public var succeeded: Bool
        /// What still differs after it (for `plan`: the plan itself); nil when it failed before knowing.
        public var remaining: Plan?
        /// Changes made (`apply`, `run`).
        public var applied: Int
        /// Each declared MicroVM's state after it (`running`, `restarting`, `failed`, `stopped`); nil when not known.
        public var microVMs: [String: MicroVMState]?

        public init(command: String, finished: Double, durationSeconds: Double, succeeded: Bool, remaining: Plan?, applied: Int = 0,
                    microVMs: [String: MicroVMState]? = nil) {
            self.microVMs = microVMs
            self.command = command
            self.finished = finished
            self.durationSeconds = durationSeconds
            self.succeeded = succeeded
            self.remaining = remaining
            self.applied = applied
        }
    }

    public var round: Round
    /// When a round last succeeded: this one's time if it did, else the one carried from before (the file
    /// written last time, or the loop's memory), so a failing host shows how long ago it last worked.
    public var lastSuccess: Double?
    /// `run` only: rounds and changes since the loop started.
    public var totals: (rounds: Int, applied: Int)?
    /// `run` only: every round's duration so far.
    public var durations: RoundDurations?
    /// The build that reports (`mooring_build_info{version, commit}`), set by the command.
    public var build: (version: String, commit: String)?

    public init(round: Round, lastSuccess: Double?, totals: (rounds: Int, applied: Int)? = nil) {
        self.round = round
        self.lastSuccess = round.succeeded ? round.finished : lastSuccess
        self.totals = totals
    }

    // Every `ResourceID.kind`: images (pulls, layers) are drift too.
    static let kinds = ["link", "nftables", "sysctl", "unit", "image"]

    /// A declared MicroVM's state as its unit shows it (a VM without a unit is stopped).
    public enum MicroVMState: String, CaseIterable, Sendable {
        case running, restarting, failed, stopped

        public init(_ unit: ObservedUnit?) {
            guard let unit else { self = .stopped; return }
            if unit.activeState == "failed" { self = .failed }
            else if unit.subState == "auto-restart" { self = .restarting }
            else if unit.isRunning { self = .running }
            else { self = .stopped }
        }

        /// Every declared MicroVM with a VMM, by its unit in `observed`.
        public static func of(_ desired: DesiredState, _ observed: ObservedState) -> [String: MicroVMState] {
            let units = Dictionary(observed.units.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            return Dictionary(desired.microVMs.filter { $0.vmm != .none }.map { vm in
                (vm.name, MicroVMState(units[SystemdNames.unitName(forMicroVM: vm.name)]))
            }, uniquingKeysWith: { first, _ in first })
        }
    }

    public var text: String {
        let registry = PrometheusCollectorRegistry()
        let command = [("command", round.command)]
        func gauge(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "mooring", metricName: name, unitName: unit, helpText: help),
                               labels: command + labels)
        }
        gauge("last_run_timestamp", "seconds", "When the last run finished (Unix time).").set(to: round.finished)
        gauge("last_run_success", "", "1 if the last run ran to the end, 0 if it failed.").set(to: round.succeeded ? 1 : 0)
        gauge("last_run_duration", "seconds", "How long the last run took.").set(to: round.durationSeconds)
        if let lastSuccess {
            gauge("last_success_timestamp", "seconds", "When a run last ran to the end (Unix time).").set(to: lastSuccess)
        }
        if let plan = round.remaining {
            gauge("converged", "", "1 if the host matched the manifests after the run.").set(to: plan.isInSync ? 1 : 0)
            for kind in Self.kinds {
                gauge("drift", "changes", "Changes still needed to match the manifests, by kind of object.", [("kind", kind)])
                    .set(to: Double(plan.changes.filter { $0.resource.kind == kind }.count))
            }
            gauge("conflicts", "", "Conflicts mooring cannot resolve (see the plan).").set(to: Double(plan.conflicts.count))
            gauge("unchecked", "", "Kinds of object that could not be observed.").set(to: Double(plan.unchecked.count))
        }
        gauge("last_run_applied", "changes", "Changes the last run made.").set(to: Double(round.applied))
        if let microVMs = round.microVMs {
            for (name, state) in microVMs.sorted(by: { $0.key < $1.key }) {
                for candidate in MicroVMState.allCases {
                    gauge("microvm_state", "", "1 for the state each declared MicroVM is in (running, restarting, failed, stopped).",
                          [("microvm", name), ("state", candidate.rawValue)]).set(to: candidate == state ? 1 : 0)
                }
            }
        }
        if let build {
            gauge("build_info", "", "1; the labels name the mooring build that reported.", [("version", build.version), ("commit", build.commit)])
                .set(to: 1)
        }
        if let totals {
            func counter(_ name: String, _ help: String) -> Counter {
                registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "mooring", metricName: name, unitName: "total", helpText: help),
                                     labels: command)
            }
            counter("rounds", "Reconcile rounds since `mooring run` started.").increment(by: Int64(totals.rounds))
            counter("applied_changes", "Changes made since `mooring run` started.").increment(by: Int64(totals.applied))
        }
        return registry.emitToString() + (durations?.text(command: round.command) ?? "")
    }

    /// The last success time in a metrics file written before (the textfile collector's file), for a run that
    /// fails now; nil when there is none.
    public static func lastSuccess(in text: String, command: String) -> Double? {
        let prefix = "mooring_last_success_timestamp_seconds{command=\"\(command)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }
}
