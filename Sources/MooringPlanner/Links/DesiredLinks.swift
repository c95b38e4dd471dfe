import MooringModel

/// Every link the manifests make (`LinkSpec.all`) and their names, for one manifest set and VMM identity. A
/// watch loop keeps it across its rounds, as long as neither changes: building it, and hashing its thousand
/// names, was a tenth of a round at a thousand taps (perf, docs/performance.md).
public struct DesiredLinks: Sendable {
    let specs: [LinkSpec]
    let names: Set<String>
    let vmmIdentity: VMMIdentity?

    public init(_ desired: DesiredState, vmmIdentity: VMMIdentity?) {
        specs = LinkSpec.all(in: desired, vmmIdentity: vmmIdentity)
        names = Set(specs.map(\.name))
        self.vmmIdentity = vmmIdentity
    }

    /// Whether these were made for this identity (the units' owner of the taps).
    public func fit(_ identity: VMMIdentity?) -> Bool { vmmIdentity == identity }
}
