import MooringModel
import MooringPlan

extension MacvtapConfig: PlannedLinkKind {
    var phase: Phase { .microVMDevices }

    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]? {
        guard case let .macvtap(observedMode) = link.kind else { return nil }
        var out: [LinkDifference] = []
        let observedParent = names.name(link.parentIndex)
        if observedParent != parent {
            out.append(LinkDifference("parent", JSONValue(observedParent), .string(parent), "parent \(observedParent ?? "?") -> \(parent)"))
        }
        if observedMode != mode {
            out.append(LinkDifference("mode", JSONValue(observedMode?.rawValue), .string(mode.rawValue),
                                      "mode \(observedMode?.rawValue ?? "?") -> \(mode.rawValue)"))
        }
        return out
    }
}
