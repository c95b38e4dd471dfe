import Foundation
import Logging
import MooringDrivers
import MooringEngine
import MooringModel

/// `apply --try`: what the command says while the trial runs and when it ends (the trial itself is `Trial`).
extension ApplyCommand {
    /// Says what the trial waits for (the round then waits for the verdict, its events through `say`).
    func announce(_ settings: Trial.Settings, say: (String) -> Void, logger: Logger) {
        let probes = settings.probes.isEmpty ? "" : "; probing \(settings.probes.map(\.description).joined(separator: ", ")) every \(Int(settings.interval)) s"
        let keep = settings.keepIfProbesPass ? "kept at the end if every probe passes, or confirmed sooner with `mooring confirm`"
            : "confirm with `mooring confirm\(options.netns.map { " --netns \($0)" } ?? "")` (from any shell)"
        let announce = "Trying for \(DurationArgument(seconds: settings.duration)): \(keep); otherwise the host is put back\(probes)."
        say(announce)
        logger.notice("\(announce)")
    }

    /// `{"outcome": "kept"|"reverted", "reason": ..., "undone": [...], "stillDifferent": [...]}`.
    static func trialJSON(_ verdict: Trial.Outcome) -> JSONValue {
        switch verdict {
        case let .kept(how):
            return ["outcome": "kept", "reason": .string(how), "undone": [], "stillDifferent": []]
        case let .reverted(reason, revert, remaining):
            return ["outcome": "reverted", "reason": .string(reason), "undone": .array(revert.changes.map { .string($0.summary) }),
                    "stillDifferent": .array(remaining.changes.map { .string($0.summary) })]
        }
    }

    /// Prints the trial's verdict; the exit code for a revert.
    func report(_ verdict: Trial.Outcome, json: Bool) -> Int32 {
        switch verdict {
        case let .kept(how):
            if !json { print("Kept: \(how).") }
            return MooringExit.inSync
        case let .reverted(reason, revert, remaining):
            let say: (String) -> Void = json ? { Terminal.printError($0) } : { print($0) }
            if remaining.changes.isEmpty {
                say("Put back (\(reason)): \(revert.changes.count) change\(revert.changes.count == 1 ? "" : "s") undone; the host is as it was before the apply.")
            } else {
                say("Put back (\(reason)), but these still differ from before:")
                for change in remaining.changes { say("  \(change.summary)") }
            }
            return MooringExit.reverted
        }
    }
}
