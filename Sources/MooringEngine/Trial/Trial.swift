import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import MooringPlanner

/// `apply --try`: after the plan is applied, the host waits for a confirmation while probes check that it still
/// reaches what it must; without one in time, or when the probes fail, it is put back as it was observed before
/// (RevertPlanner). The confirmation is SIGUSR1 (what `mooring confirm` sends); SIGINT and SIGTERM revert at
/// once; SIGHUP is ignored, so a dropped SSH session leaves the countdown running and the operator can confirm
/// from a new one. A SIGKILL or a crash leaves the tried state in place: nothing is kept outside this process.
public struct Trial {
    /// The signals the trying process handles; blocked before any thread starts, so they reach the signalfd.
    public static let signals: [Int32] = [confirmSignal, SIGINT, SIGTERM, SIGHUP]
    /// What `mooring confirm` sends.
    public static let confirmSignal = SIGUSR1
    /// Answers to `mooring confirm`: kept, or too late (the revert has begun).
    public static let keptReply = SIGUSR1
    public static let tooLateReply = SIGUSR2

    public struct Settings: Sendable {
        public var duration: Double
        public var probes: [ReachabilityProbe]
        /// Seconds between probe rounds; each probe gets this long to answer.
        public var interval: Double = 1
        /// Rounds in a row with a failed probe that make the trial lost.
        public var failuresToRevert: Int = 3
        /// Keep the changes at the end when every probe round passed, without waiting for a confirmation
        /// (unattended applies).
        public var keepIfProbesPass: Bool = false

        public init(duration: Double, probes: [ReachabilityProbe], keepIfProbesPass: Bool = false) {
            self.duration = duration
            self.probes = probes
            self.keepIfProbesPass = keepIfProbesPass
        }
    }

    public enum Outcome: Sendable {
        /// Kept: confirmed by a process (its PID), or by passing probes.
        case kept(String)
        /// Put back: why, what the revert did, and what still differs from before (empty when all is back).
        case reverted(reason: String, revert: Plan, remaining: Plan)
    }

    public let reconciler: Reconciler
    public let before: ObservedState
    public let tried: Plan
    public let settings: Settings

    public init(reconciler: Reconciler, before: ObservedState, tried: Plan, settings: Settings) {
        self.reconciler = reconciler
        self.before = before
        self.tried = tried
        self.settings = settings
    }

    /// Waits for the verdict; `say` gets one line per event (a probe that failed, the confirmation, each revert step).
    public func wait(signals: StopSignals, say: @escaping @Sendable (String) -> Void) throws -> Outcome {
        let deadline = Date().addingTimeInterval(settings.duration)
        var failedRounds = 0
        var everFailed = false
        while true {
            // One round per interval, the probes' own time included: a probe that times out (after the interval)
            // starts the next round at once, so three failures take three intervals, as the output says.
            let roundStart = Date()
            if let reason = probeRound() {
                failedRounds += 1
                everFailed = true
                say("probe failed (\(failedRounds) of \(settings.failuresToRevert) in a row): \(reason)")
                if failedRounds >= settings.failuresToRevert {
                    return try revert(because: "the probe failed \(failedRounds) times in a row: \(reason)", say: say, signals: signals)
                }
            } else {
                failedRounds = 0
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 {
                if settings.keepIfProbesPass && !everFailed && !settings.probes.isEmpty {
                    return .kept("every probe round passed for \(Int(settings.duration)) s")
                }
                return try revert(because: "no confirmation within \(Int(settings.duration)) s", say: say, signals: signals)
            }
            // The probes set the pace; signals are handled as they come in between.
            let roundEnd = min(deadline, roundStart.addingTimeInterval(settings.interval))
            while let received = signals.next(timeout: max(0, roundEnd.timeIntervalSinceNow)) {
                switch received.signal {
                case Self.confirmSignal:
                    if received.sender > 0 { kill(received.sender, Self.keptReply) }
                    return .kept("confirmed by process \(received.sender)")
                case SIGHUP:
                    say("the terminal hung up; still waiting for `mooring confirm`")
                default:
                    return try revert(because: "stopped by signal \(received.signal) before a confirmation", say: say,
                                      signals: signals)
                }
            }
        }
    }

    /// Nil when every probe answered, else the first failure.
    private func probeRound() -> String? {
        let probes = settings.probes, timeout = settings.interval
        guard !probes.isEmpty else { return nil }
        do {
            return try reconciler.drivers.runInNamespace { () -> String? in
                for probe in probes {
                    if let failure = probe.check(timeout: timeout) { return "\(probe): \(failure)" }
                }
                return nil
            }
        } catch {
            return "cannot probe in the target's network namespace: \(error)"
        }
    }

    /// Puts the host back to `before` (for what the tried plan touched), then looks again.
    public func revert(because reason: String, say: @escaping @Sendable (String) -> Void,
                        signals: StopSignals) throws -> Outcome {
        say("reverting: \(reason)")
        let now = try reconciler.observeForRevert()
        let revert = RevertPlanner(before: before, now: now, tried: tried).plan()
        // A confirmation that arrives now is answered: too late.
        defer { answerLateConfirmations(signals) }
        _ = try reconciler.execute(revert) { _, change in say("  ~ \(change.summary)") }
        let after = try reconciler.observeForRevert()
        let remaining = RevertPlanner(before: before, now: after, tried: tried).plan()
        return .reverted(reason: reason, revert: revert, remaining: remaining)
    }

    private func answerLateConfirmations(_ signals: StopSignals) {
        while let received = signals.next(timeout: 0) {
            if received.signal == Self.confirmSignal, received.sender > 0 { kill(received.sender, Self.tooLateReply) }
        }
    }
}
