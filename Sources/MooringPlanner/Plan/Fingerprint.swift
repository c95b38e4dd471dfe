import Foundation
import MooringModel
import MooringPlan

/// Fingerprints of the inputs of a plan, so a saved plan is executed only against the state it was made from.
public enum Fingerprint {
    /// The validated manifests (every resolved value and where it was written).
    public static func desired(_ desired: DesiredState) -> String {
        hash(desired)
    }

    /// The part of the host the planner looks at: owned links, links the manifests name, the nftables table,
    /// the sysctls and the units. Link indexes, PIDs and restart counts are left out: they change without
    /// changing what the plan does.
    public static func observed(_ observed: ObservedState, for desired: DesiredState) -> String {
        struct LinkFacts: Encodable {
            var name: String
            var kind: ObservedLinkKind
            var master, parent, mac, alias: String?
            var mtu: Int
            var up: Bool
            var addresses: [CIDR]
        }
        struct UnitFacts: Encodable {
            var name, state: String
            var specHash: String?
        }
        struct Facts: Encodable {
            var links: [LinkFacts]
            var nftables: NftTable?
            var sysctls: [String: String]
            var units: [UnitFacts]
        }
        let named = LinkSpec.namesReferenced(by: desired)
        let byIndex = observed.linksByIndex
        let links = observed.links.filter { $0.isOwnedByMooring || named.contains($0.name) }.map { link in
            LinkFacts(name: link.name, kind: link.kind,
                      master: link.masterIndex.flatMap { byIndex[$0]?.name }, parent: link.parentIndex.flatMap { byIndex[$0]?.name },
                      mac: link.mac?.description, alias: link.alias, mtu: link.mtu, up: link.isUp, addresses: link.addresses)
        }.sorted { $0.name < $1.name }
        let units = observed.units.map { UnitFacts(name: $0.name, state: "\($0.activeState)/\($0.subState)", specHash: $0.specHash) }
            .sorted { $0.name < $1.name }
        return hash(Facts(links: links, nftables: observed.nftables?.normalized(), sysctls: observed.sysctls, units: units))
    }

    private static func hash<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return String(format: "%016llx", StableHash.fnv1a64(bytes: data))
    }
}
