import MooringModel
import MooringPlan

/// A plan saved by `mooring plan --out FILE` for review, and checked by `mooring apply --plan FILE`.
///
/// A saved plan is a review artifact, never a program: apply re-derives the plan from today's manifests and
/// host and runs *that*, only when it equals the saved plan change for change (operations included), which
/// the digest of its substance tells. An edited file (a unit's command line, a directory to delete, a link to
/// remove) therefore never runs: the fresh plan does not contain it, and the digests differ. Nothing in the
/// file is ever decoded into an action.
public struct SavedPlan: Sendable {
    public static let formatVersion = 2

    /// The plan report, as `plan --output json` prints it, for the reviewer.
    public var report: JSONValue
    public var manifestsFingerprint: String
    public var observedFingerprint: String
    /// The digest of the plan's changes, conflicts and held changes (`PlanJSON.substance`).
    public var planDigest: String

    public init(plan: Plan, context: ReportContext?, manifestsFingerprint: String, observedFingerprint: String) {
        report = PlanJSON.report(plan, context: context)
        self.manifestsFingerprint = manifestsFingerprint
        self.observedFingerprint = observedFingerprint
        planDigest = Self.digest(plan)
    }

    public static func digest(_ plan: Plan) -> String { StableHash.hex(PlanJSON.substance(plan).canonicalText) }

    public var json: JSONValue {
        ["formatVersion": JSONValue(Self.formatVersion), "report": report, "manifestsFingerprint": .string(manifestsFingerprint),
         "observedFingerprint": .string(observedFingerprint), "planDigest": .string(planDigest)]
    }

    /// Reads a saved plan's text; nil when it is not one (of this format).
    public init?(text: String) {
        guard let value = JSONValue.parse(text), value["formatVersion"]?.int == Self.formatVersion,
              let report = value["report"], let manifests = value["manifestsFingerprint"]?.string,
              let observed = value["observedFingerprint"]?.string, let digest = value["planDigest"]?.string else { return nil }
        self.report = report
        manifestsFingerprint = manifests
        observedFingerprint = observed
        planDigest = digest
    }

    /// Why this saved plan must not run, or nil when a plan made now is exactly the saved one.
    public func differences(manifests: String, observed: String, freshPlan: Plan) -> [String]? {
        if Self.digest(freshPlan) == planDigest && PlanJSON.substance(freshPlan) == substance { return nil }
        var reasons: [String] = []
        if manifests != manifestsFingerprint { reasons.append("the manifests changed since the plan was made") }
        if observed != observedFingerprint { reasons.append("the host changed since the plan was made") }
        let saved = (report["changes"]?.array ?? []).compactMap { $0["summary"]?.string }
        let now = freshPlan.changes.map(\.summary)
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

    /// The report's own changes, conflicts and held changes, as saved.
    private var substance: JSONValue {
        ["changes": report["changes"] ?? [], "conflicts": report["conflicts"] ?? [], "held": report["held"] ?? []]
    }
}
