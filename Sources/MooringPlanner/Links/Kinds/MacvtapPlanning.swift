import MooringModel
import MooringPlan

extension MacvtapConfig: PlannedLinkKind {
    var phase: Phase { .microVMDevices }

    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]? {
        guard case let .macvtap(observedMode, observedSources) = link.kind else { return nil }
        var out: [LinkDifference] = []
        let observedParent = names.name(link.parentIndex)
        if observedParent != parent {
            out.append(LinkDifference("parent", JSONValue(observedParent), .string(parent), "parent \(observedParent ?? "?") -> \(parent)"))
        }
        if observedMode != mode {
            out.append(LinkDifference("mode", JSONValue(observedMode?.rawValue), .string(mode.rawValue),
                                      "mode \(observedMode?.rawValue ?? "?") -> \(mode.rawValue)"))
        }
        // Replaced whole on a new device: the list changes rarely, and a VM restart is the honest cost.
        if observedSources != sourceMACs {
            func text(_ macs: [MACAddress]) -> String { macs.isEmpty ? "none" : macs.map(\.description).joined(separator: ",") }
            out.append(LinkDifference("sourceMACs", .array(observedSources.map { .string($0.description) }),
                                      .array(sourceMACs.map { .string($0.description) }),
                                      "source macs \(text(observedSources)) -> \(text(sourceMACs))"))
        }
        return out
    }
}
