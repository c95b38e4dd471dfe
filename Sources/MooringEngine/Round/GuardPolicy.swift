import Foundation
import MooringModel
import MooringPlan
import MooringPlanner

/// What a round refuses to do unless told to: one policy, checked the same way by `plan` (as a warning),
/// `apply`, `apply --try` and every round of `mooring run`. Each refusal has its own message and its own flag,
/// so the hint always fits what was refused.
public struct GuardPolicy: Sendable, Equatable {
    /// `--allow-empty`: an empty manifest set, or one that selects nothing for this host, may delete
    /// everything mooring owns.
    public var allowEmpty: Bool
    /// `--allow-large-drop`: a set that declares things may delete a large share of what mooring owns: all of
    /// it (a host switched to a new manifest tree), or more than `maxDropPercent`.
    public var allowLargeDrop: Bool
    /// `--max-drop`: the largest share (percent) of owned objects one change may delete; deleting
    /// `SuddenDropGuard.Limit.floor` objects or fewer never counts. nil: no share is too large (a set that keeps
    /// nothing still is).
    public var maxDropPercent: Double?
    /// `--try`: changes the trial could not put back (RevertPlanner.irreversible) are refused.
    public var refuseIrreversible: Bool

    public init(allowEmpty: Bool = false, allowLargeDrop: Bool = false, maxDropPercent: Double? = nil, refuseIrreversible: Bool = false) {
        self.allowEmpty = allowEmpty
        self.allowLargeDrop = allowLargeDrop
        self.maxDropPercent = maxDropPercent
        self.refuseIrreversible = refuseIrreversible
    }

    /// The same policy without the share limit: for the first manifests a watch loop reads (starting the
    /// service again is how an operator confirms a held-back drop).
    public var withoutShareLimit: GuardPolicy {
        var copy = self
        copy.maxDropPercent = nil
        return copy
    }

    /// What the manifests were, for the refusal's words.
    public struct Source: Sendable {
        public var documentCount: Int
        public var documentsRead: Int
        public var host: String?

        public init(documentCount: Int, documentsRead: Int, host: String?) {
            self.documentCount = documentCount
            self.documentsRead = documentsRead
            self.host = host
        }
    }

    /// Why `plan` may not be executed under this policy; nil when it may.
    public func refusal(_ plan: Plan, observed: ObservedState, source: Source) -> GuardRefusal? {
        if let teardown = TeardownGuard.totalTeardown(plan, observed: observed) {
            if source.documentCount == 0 {
                if !allowEmpty {
                    return .emptySet(teardown, why: TeardownGuard.why(documentCount: 0, documentsRead: source.documentsRead, host: source.host))
                }
            } else if !allowLargeDrop, let drop = SuddenDropGuard.suspiciousDrop(plan, observed: observed, limit: .everything) {
                return .keepsNothing(drop, documents: source.documentCount)
            }
        } else if !allowLargeDrop, let percent = maxDropPercent,
                  let drop = SuddenDropGuard.suspiciousDrop(plan, observed: observed, limit: SuddenDropGuard.Limit(percent: percent)) {
            return .overLimit(drop, percent: percent)
        }
        if refuseIrreversible {
            let irreversible = RevertPlanner.irreversible(plan, before: observed)
            if !irreversible.isEmpty { return .irreversible(irreversible) }
        }
        return nil
    }
}

/// A plan the policy does not let through, with what it would have done.
public enum GuardRefusal: Sendable, Equatable, CustomStringConvertible {
    /// The manifests hold nothing for this host, and the plan deletes everything mooring owns.
    case emptySet(TeardownSummary, why: String)
    /// The manifests declare things, but none of what mooring owns now: everything owned would go.
    case keepsNothing(SuddenDropGuard.Drop, documents: Int)
    /// The plan deletes more of what mooring owns than `--max-drop` allows.
    case overLimit(SuddenDropGuard.Drop, percent: Double)
    /// `--try` could not put these changes back.
    case irreversible([String])

    /// The flag that lets it through; nil when no flag does (apply without `--try` instead).
    public var flag: String? {
        switch self {
        case .emptySet: return "--allow-empty"
        case .keepsNothing, .overLimit: return "--allow-large-drop"
        case .irreversible: return nil
        }
    }

    /// One line: what would be deleted.
    public var description: String {
        switch self {
        case let .emptySet(teardown, _): return "it would delete everything mooring owns here: \(teardown)"
        case let .keepsNothing(drop, _): return "it keeps none of the \(drop.owned) object(s) mooring owns here (\(drop.examplesText))"
        case let .overLimit(drop, percent): return "\(drop), more than --max-drop \(percent.formatted())% allows"
        case let .irreversible(changes): return "--try could not put back: \(changes.joined(separator: "; "))"
        }
    }

    /// What an apply prints on refusing: the error, why, and the fix.
    public var lines: [String] {
        switch self {
        case let .emptySet(teardown, why):
            return ["error: refusing to delete everything mooring owns here: \(teardown)", why,
                    "nothing was changed; if removing it all is what you want, run again with --allow-empty"]
        case let .keepsNothing(drop, documents):
            return ["error: refusing a change that keeps none of the \(drop.owned) object(s) mooring owns here (\(drop.examplesText))",
                    "the manifests (\(documents) document(s)) declare other objects only: a host switched to a new manifest tree looks like this, and so does a wrong -f",
                    "nothing was changed; if replacing it all is what you want, run again with --allow-large-drop"]
        case let .overLimit(drop, percent):
            return ["error: refusing to delete this much at once: \(drop), more than --max-drop \(percent.formatted())% allows",
                    "nothing was changed; if the removal is intended, run again with --allow-large-drop (or a larger --max-drop)"]
        case let .irreversible(changes):
            return ["error: --try could not put these changes back, so nothing was changed:"] + changes.map { "  \($0)" }
                + ["apply them without --try first (they cannot cut the host off), then try the rest"]
        }
    }
}
