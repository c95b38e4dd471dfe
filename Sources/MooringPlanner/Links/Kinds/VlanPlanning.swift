import MooringModel
import MooringPlan

extension VlanConfig: PlannedLinkKind {
    var phase: Phase { .bridgePorts }

    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]? {
        guard case let .vlan(observedID) = link.kind else { return nil }
        var out: [LinkDifference] = []
        if observedID != id { out.append(LinkDifference("id", JSONValue(observedID), JSONValue(id), "id \(observedID) -> \(id)")) }
        let observedParent = names.name(link.parentIndex)
        if observedParent != parent {
            out.append(LinkDifference("parent", JSONValue(observedParent), .string(parent), "parent \(observedParent ?? "?") -> \(parent)"))
        }
        return out
    }

    func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)? {
        capabilities.vlan ? nil : ("this kernel cannot create 802.1Q VLAN devices (no 8021q support)",
                                   "load the 8021q module (modprobe 8021q), or remove spec.vlan")
    }
}
