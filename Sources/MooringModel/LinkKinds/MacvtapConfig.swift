/// A macvtap on a host interface, handed to the VMM as a file descriptor.
public struct MacvtapConfig: LinkKind {
    public static let kindName = LinkConfig.Name.macvtap
    public var parent: String
    public var mode: MacvtapMode
    /// The guest's MAC; nil for passthru: the macvtap keeps its parent's MAC, and setting one would rewrite the
    /// parent's (the kernel passes it down).
    public var mac: MACAddress?
    /// `source` mode: the MACs whose frames it receives, sorted (set right after creation, replaced as a whole).
    public var sourceMACs: [MACAddress]

    public init(parent: String, mode: MacvtapMode, mac: MACAddress?, sourceMACs: [MACAddress] = []) {
        self.parent = parent
        self.mode = mode
        self.mac = mac
        self.sourceMACs = sourceMACs.sorted { $0.description < $1.description }
    }

    public var config: LinkConfig { .macvtap(self) }
    public var role: LinkRole { .microVMDevice }
    public var references: [(link: String, role: String)] { [(parent, "parent interface")] }
    public var settings: [(key: String, value: JSONValue)] {
        [("parent", .string(parent)), ("mode", .string(mode.rawValue)), ("mac", JSONValue(mac?.description)),
         ("sourceMACs", .array(sourceMACs.map { .string($0.description) }))]
    }
    public var summary: String {
        " on \(parent) mode \(mode.rawValue)" + (mac.map { " mac \($0)" } ?? " (the parent's own mac)")
            + (sourceMACs.isEmpty ? "" : " from \(sourceMACs.map(\.description).joined(separator: ","))")
    }

    /// Its parent, mode and source MACs. Its MAC changes in place (LinkPlanner's setting differences).
    public func fixedDifferences(from have: MacvtapConfig) -> [KindDifference] {
        var out: [KindDifference] = []
        if have.parent != parent {
            out.append(KindDifference("parent", have.parent.isEmpty ? .null : .string(have.parent), .string(parent),
                                      "parent \(have.parent.isEmpty ? "?" : have.parent) -> \(parent)"))
        }
        if have.mode != mode {
            out.append(KindDifference("mode", .string(have.mode.rawValue), .string(mode.rawValue), "mode \(have.mode.rawValue) -> \(mode.rawValue)"))
        }
        // Replaced whole on a new device: the list changes rarely, and a VM restart is the honest cost.
        if have.sourceMACs != sourceMACs {
            func text(_ macs: [MACAddress]) -> String { macs.isEmpty ? "none" : macs.map(\.description).joined(separator: ",") }
            out.append(KindDifference("sourceMACs", .array(have.sourceMACs.map { .string($0.description) }),
                                      .array(sourceMACs.map { .string($0.description) }),
                                      "source macs \(text(have.sourceMACs)) -> \(text(sourceMACs))"))
        }
        return out
    }
}
