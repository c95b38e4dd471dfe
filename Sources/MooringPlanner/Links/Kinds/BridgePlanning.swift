import MooringModel
import MooringPlan

extension BridgeConfig: PlannedLinkKind {
    var phase: Phase { .createBridges }

    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]? {
        guard case .bridge = link.kind else { return nil }
        return []
    }
}
