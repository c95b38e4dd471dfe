import MooringModel

/// A macvtap on a host interface, handed to the VMM as a file descriptor.
public struct MacvtapConfig: LinkKind, Equatable {
    public static let name = "macvtap"
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

    public var references: [(link: String, role: String)] { [(parent, "parent interface")] }
    public var settings: [(key: String, value: JSONValue)] {
        [("parent", .string(parent)), ("mode", .string(mode.rawValue)), ("mac", JSONValue(mac?.description)),
         ("sourceMACs", .array(sourceMACs.map { .string($0.description) }))]
    }
    public var summary: String {
        " on \(parent) mode \(mode.rawValue)" + (mac.map { " mac \($0)" } ?? " (the parent's own mac)")
            + (sourceMACs.isEmpty ? "" : " from \(sourceMACs.map(\.description).joined(separator: ","))")
    }
}
