import MooringModel
import MooringPlan

/// A manifest edit that would delete a large share of what mooring owns is held back as
/// suspicious. A file caught half-written (`cat a > f; cat b >> f`, an editor saving in two writes, a cut in
/// the middle of a VM's interface list that still validates) reads as "these objects are gone", and applying
/// it stops MicroVMs and deletes their devices. Such a drop is applied only after the operator confirms it
/// with `mooring apply` (after which the edit deletes nothing more and is accepted), or restarts the service.
/// `mooring run` applies it with `--max-drop 10` by default, `apply` only when given `--max-drop` (GuardPolicy).
/// Pure: it reads the plan and the observed state.
public enum SuddenDropGuard {
    public struct Limit: Sendable, Equatable {
        /// The largest share (percent) of owned objects one edit may delete without confirmation.
        public var percent: Double
        /// Deleting at most this many objects is never suspicious (removing one VM from a small host).
        public var floor: Int

        public init(percent: Double = 10, floor: Int = 5) {
            self.percent = percent
            self.floor = floor
        }

        /// Any deletion at all: to describe one that is refused for another reason (a set that keeps nothing).
        public static let everything = Limit(percent: 0, floor: 0)
    }

    /// What the plan deletes, when that is more than `limit` allows; nil otherwise.
    public static func suspiciousDrop(_ plan: Plan, observed: ObservedState, limit: Limit) -> Drop? {
        let owned = TeardownGuard.ownedResources(observed)
        let removed = Set(plan.changes.filter { $0.action == .delete || $0.action == .stop }.map(\.resource))
            .intersection(owned)
        guard removed.count > limit.floor, Double(removed.count) > Double(owned.count) * limit.percent / 100 else { return nil }
        return Drop(removed: removed.count, owned: owned.count, examples: removed.sorted().prefix(4).map(\.description))
    }

    public struct Drop: Sendable, Equatable, CustomStringConvertible {
        public var removed: Int
        public var owned: Int
        public var examples: [String]

        public var description: String {
            "it would delete \(removed) of the \(owned) objects mooring owns here (\(examplesText))"
        }

        /// `link/br0, link/vm-a-eth0, ...`: the first few it deletes.
        public var examplesText: String { examples.joined(separator: ", ") + (removed > examples.count ? ", ..." : "") }
    }
}
