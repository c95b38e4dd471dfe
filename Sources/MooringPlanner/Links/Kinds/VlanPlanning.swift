import MooringModel
import MooringPlan

extension VlanConfig: PlannedLinkKind {
    init?(observed link: ObservedLink, names: LinkNames) {
        guard case let .vlan(id) = link.kind else { return nil }
        self.init(parent: names.name(link.parentIndex) ?? "", id: id)
    }

    var phase: Phase { .bridgePorts }

    func fixedDifferences(from have: VlanConfig) -> [LinkDifference] {
        var out: [LinkDifference] = []
        if have.id != id { out.append(LinkDifference("id", JSONValue(have.id), JSONValue(id), "id \(have.id) -> \(id)")) }
        if have.parent != parent {
            out.append(LinkDifference("parent", have.parent.isEmpty ? .null : .string(have.parent), .string(parent),
                                      "parent \(have.parent.isEmpty ? "?" : have.parent) -> \(parent)"))
        }
        return out
    }

    func unsupported(on capabilities: HostCapabilities) -> (message: String, fix: String)? {
        capabilities.vlan ? nil : ("this kernel cannot create 802.1Q VLAN devices (no 8021q support)",
                                   "load the 8021q module (modprobe 8021q), or remove spec.vlan")
    }
}
