import MooringModel
import MooringPlan

extension BridgeConfig: PlannedLinkKind {
    init?(observed link: ObservedLink, names: LinkNames) {
        guard case .bridge = link.kind else { return nil }
        self.init(mac: link.mac)
    }

    var phase: Phase { .createBridges }

    /// Nothing is fixed: its MAC and MTU change in place (LinkPlanner's setting differences).
    func fixedDifferences(from have: BridgeConfig) -> [LinkDifference] { [] }
}
