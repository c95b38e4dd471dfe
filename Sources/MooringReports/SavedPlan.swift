import MooringModel
import MooringPlan

/// A plan saved by `mooring plan --out FILE` for review, executed later by `mooring apply --plan FILE`.
public struct SavedPlan: Sendable, Codable, Equatable {
    public static let currentFormat = 1

    public var formatVersion: Int
    public var report: PlanReport
    public var manifestsFingerprint: String
    public var observedFingerprint: String

    public init(report: PlanReport, manifestsFingerprint: String, observedFingerprint: String) {
        formatVersion = Self.currentFormat
        self.report = report
        self.manifestsFingerprint = manifestsFingerprint
        self.observedFingerprint = observedFingerprint
    }

    /// Why this saved plan must not run, or nil when a plan made now is exactly the saved one.
    ///
    /// A saved plan is a review artifact, never a program: apply re-derives the plan from today's manifests and
    /// host and runs *that*, only when it equals the saved plan change for change (operations included). An
    /// edited file (a unit's command line, a directory to delete, a link to remove) therefore never runs: the
    /// fresh plan does not contain it, and the two differ.
    public func differences(manifests: String, observed: String, freshPlan: Plan) -> [String]? {
        if report.changes == freshPlan.changes && report.conflicts == freshPlan.conflicts && (report.held ?? []) == freshPlan.held {
            return nil
        }
        var reasons: [String] = []
        if manifests != manifestsFingerprint { reasons.append("the manifests changed since the plan was made") }
        if observed != observedFingerprint { reasons.append("the host changed since the plan was made") }
        let saved = report.changes.map(\.summary), now = freshPlan.changes.map(\.summary)
        let gone = saved.filter { !now.contains($0) }, new = now.filter { !saved.contains($0) }
        reasons += gone.map { "  no longer planned: \($0)" } + new.map { "  now also needed: \($0)" }
        if reasons.isEmpty {
            reasons.append("the saved changes differ from what mooring would do now in their details "
                           + "(was the file edited?); review a fresh `mooring plan --out`")
        } else if gone.isEmpty && new.isEmpty {
            reasons.append("  (a fresh plan has the same changes: make it again with `mooring plan --out`)")
        }
        return reasons
    }
}
