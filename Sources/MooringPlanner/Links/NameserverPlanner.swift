import MooringModel
import MooringPlan

/// DNS of mooring's bridges, in systemd-resolved: a bridge that declares `nameservers` gets exactly those
/// servers and search domains; one of mooring's bridges that declares none has whatever was set on it
/// forgotten. When resolved cannot be asked, the plan says so (unchecked) and sets nothing: mooring never edits
/// /etc/resolv.conf.
struct NameserverPlanner {
    let desired: DesiredState
    let observed: ObservedState

    func plan() -> (changes: [Change], unchecked: [String]) {
        let declaring = desired.bridges.filter { $0.nameservers != nil }
        if let problem = observed.resolverProblem {
            guard !declaring.isEmpty else { return ([], []) }
            return ([], ["DNS of \(declaring.map(\.name).joined(separator: ", ")) (spec.nameservers): \(problem); "
                         + "mooring sets DNS only through systemd-resolved and never edits /etc/resolv.conf"])
        }
        var changes: [Change] = []
        let byName = observed.links(named: Set(desired.bridges.map(\.name)))
        for bridge in desired.bridges {
            let link = byName[bridge.name]
            // Only a bridge of mooring's (or one it is about to make): someone else's is a conflict already.
            if let link, !link.isOwnedByMooring { continue }
            let want = bridge.nameservers ?? Nameservers()
            let have = link == nil ? Nameservers() : observed.nameservers[bridge.name] ?? Nameservers()
            guard want != have else { continue }
            let group = ChangeGroup(bridge.origin)
            changes.append(Change(resource: .link(bridge.name), group: group, action: .update,
                                  summary: "bridge \(bridge.name): set DNS \(want.text)" + (have.isEmpty ? "" : " (was \(have.text))"),
                                  reason: bridge.nameservers == nil ? .unsetIn(group, field: "nameservers") : .declared(group, field: "spec.nameservers"),
                                  fields: [FieldChange("nameservers", before: have.isEmpty ? .null : .string(have.text),
                                                       after: want.isEmpty ? .null : .string(want.text))],
                                  operation: .setNameservers(link: bridge.name, nameservers: want), phase: .linkNameservers))
        }
        return (changes, [])
    }
}
