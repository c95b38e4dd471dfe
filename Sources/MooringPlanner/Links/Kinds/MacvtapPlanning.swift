import MooringModel
import MooringPlan

extension MacvtapConfig: PlannedLinkKind {
    init?(observed link: ObservedLink, names: LinkNames) {
        guard case let .macvtap(mode, sourceMACs) = link.kind, let mode else { return nil }
        self.init(parent: names.name(link.parentIndex) ?? "", mode: mode, mac: mode == .passthru ? nil : link.mac, sourceMACs: sourceMACs)
    }

    var phase: Phase { .microVMDevices }

    /// Its parent, mode and source MACs. Its MAC changes in place (LinkPlanner's setting differences).
    func fixedDifferences(from have: MacvtapConfig) -> [LinkDifference] {
        var out: [LinkDifference] = []
        if have.parent != parent {
            out.append(LinkDifference("parent", have.parent.isEmpty ? .null : .string(have.parent), .string(parent),
                                      "parent \(have.parent.isEmpty ? "?" : have.parent) -> \(parent)"))
        }
        if have.mode != mode {
            out.append(LinkDifference("mode", .string(have.mode.rawValue), .string(mode.rawValue), "mode \(have.mode.rawValue) -> \(mode.rawValue)"))
        }
        // Replaced whole on a new device: the list changes rarely, and a VM restart is the honest cost.
        if have.sourceMACs != sourceMACs {
            func text(_ macs: [MACAddress]) -> String { macs.isEmpty ? "none" : macs.map(\.description).joined(separator: ",") }
            out.append(LinkDifference("sourceMACs", .array(have.sourceMACs.map { .string($0.description) }),
                                      .array(sourceMACs.map { .string($0.description) }),
                                      "source macs \(text(have.sourceMACs)) -> \(text(sourceMACs))"))
        }
        return out
    }
}
