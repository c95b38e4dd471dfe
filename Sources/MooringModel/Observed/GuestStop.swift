import Foundation

/// How a MicroVM's stop went: the guest powered off when asked, or the VMM had to be terminated.
/// `mooring stop-vm` (the unit's ExecStop) writes it to the VM's run directory; apply reports it per VM.
public struct GuestStop: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        /// The guest shut down by itself after the power button.
        case clean
        /// The guest did not power off in time (or could not be asked): systemd terminated the VMM.
        case forced
        /// The VMM was not running when the stop came.
        case notRunning = "not-running"
    }

    public var outcome: Outcome
    /// From the power button to the VMM's exit (or to giving up).
    public var seconds: Double
    public var detail: String

    public init(outcome: Outcome, seconds: Double, detail: String) {
        self.outcome = outcome
        self.seconds = seconds
        self.detail = detail
    }

    public var summary: String {
        let time = String(format: "%.1f s", seconds)
        switch outcome {
        case .clean: return "the guest shut down cleanly in \(time)"
        case .forced: return "forced: \(detail)"
        case .notRunning: return "the VMM was not running"
        }
    }
}

/// A stop, with the unit it was for.
public struct UnitStopReport: Sendable, Codable, Equatable {
    public var unit: String
    public var microVM: String?
    public var stop: GuestStop

    public init(unit: String, microVM: String?, stop: GuestStop) {
        self.unit = unit
        self.microVM = microVM
        self.stop = stop
    }
}
