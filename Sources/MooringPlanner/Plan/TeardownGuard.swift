import MooringModel
import MooringPlan

/// Deleting everything mooring owns is never a side effect. An empty manifest directory, a fleet repository
/// where no document selects this host, or a manifest file swapped for something that reads as empty all look
/// like "the operator wants nothing" and would tear down every bridge, tap, the NAT table and every MicroVM.
/// So a plan that removes every owned object is refused by apply and watch mode unless the operator asked for it
/// (`--allow-empty`); a set that declares other things but keeps none of what is owned is a large drop
/// (GuardPolicy, `--allow-large-drop`). Pure: it reads the plan and the observed state.
public enum TeardownGuard {
    /// What the plan would tear down, when it removes every object mooring owns (and there is at least one);
    /// nil when something owned stays, or nothing owned exists.
    public static func totalTeardown(_ plan: Plan, observed: ObservedState) -> TeardownSummary? {
        // What the plan removes first: a plan that removes nothing (a watch round's repair) keeps everything,
        // without a set of every link mooring owns being built (6% of a round at a thousand taps).
        let removed = Set(plan.changes.filter { $0.action == .delete || $0.action == .stop }.map(\.resource))
        guard !removed.isEmpty else { return nil }
        let owned = ownedResources(observed)
        guard !owned.isEmpty, owned.isSubset(of: removed) else { return nil }
        return TeardownSummary(links: observed.links.filter(\.isOwnedByMooring).map(\.name).sorted(),
                               nftTable: observed.nftables != nil, units: observed.units.map(\.name).sorted())
    }

    /// Why the manifests select nothing, for the refusal message.
    public static func why(documentCount: Int, documentsRead: Int, host: String?) -> String {
        if documentCount == 0 {
            let selected = documentsRead == 0 ? "the manifests hold no documents"
                : "none of the \(documentsRead) document(s) read applies to host \(host ?? "(any)") (spec.hosts / hostSelector)"
            return "\(selected): an empty set means \"delete everything\", which mooring does only when asked"
        }
        return "the manifests (\(documentCount) document(s)) declare none of the objects mooring owns here now"
    }

    /// The plan resource names of everything mooring owns on the target.
    static func ownedResources(_ observed: ObservedState) -> Set<ResourceID> {
        var owned = Set(observed.links.filter(\.isOwnedByMooring).map { ResourceID.link($0.name) })
        if observed.nftables != nil { owned.insert(.nftTable) }
        owned.formUnion(observed.units.map { ResourceID.unit($0.name) })
        return owned
    }
}

/// Everything an apply would remove when it removes it all.
public struct TeardownSummary: Sendable, Equatable, CustomStringConvertible {
    public var links: [String]
    public var nftTable: Bool
    public var units: [String]

    public var description: String {
        var parts: [String] = []
        if !links.isEmpty { parts.append("\(links.count) link(s) (\(Self.some(links)))") }
        if nftTable { parts.append("the nftables table \(NftTable.family) \(NftTable.name)") }
        if !units.isEmpty { parts.append("\(units.count) MicroVM unit(s) (\(Self.some(units)))") }
        return parts.joined(separator: ", ")
    }

    private static func some(_ names: [String]) -> String {
        names.count <= 4 ? names.joined(separator: ", ") : names.prefix(4).joined(separator: ", ") + ", ..."
    }
}
