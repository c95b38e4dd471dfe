import MooringModel

/// Every link the manifests make (`LinkSpec.all`) and their names, for one manifest set and the VMMs' identities. A
/// watch loop keeps it across its rounds, as long as neither changes: building it, and hashing its thousand
/// names, was a tenth of a round at a thousand taps (perf, docs/performance.md).
public struct DesiredLinks: Sendable {
    let specs: [LinkSpec]
    let names: Set<String>
    let identities: VMMIdentityMap

    public init(_ desired: DesiredState, identities: VMMIdentityMap) {
        specs = LinkSpec.all(in: desired, identities: identities)
        names = Set(specs.map(\.name))
        self.identities = identities
    }

    /// Whether these were made for these identities (the owners of the taps).
    public func fit(_ identities: VMMIdentityMap) -> Bool { self.identities == identities }
}
