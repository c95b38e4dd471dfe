import Foundation
import MooringModel

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
        let named = Set(LinkSpec.all(in: desired).map(\.name)
            + desired.bridges.flatMap { $0.ports + [$0.vxlan?.device, $0.vlan?.parent].compactMap { $0 } }
            + desired.nats.flatMap { [$0.externalInterface] + $0.internalInterfaces }
            + desired.microVMs.flatMap { $0.interfaces.compactMap(\.parentInterface) })
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

/// A plan saved by `mooring plan --out FILE` for review, executed later by `mooring apply --plan FILE`.
public struct SavedPlan: Sendable, Codable, Equatable {
    public static let currentFormat = 1

    public var formatVersion: Int
    public var report: PlanReport
    public var manifestsFingerprint: String
    public var observedFingerprint: String

    public init(report: PlanReport, manifestsFingerprint: String, observedFingerprint: String) {
        formatVersion = Self.currentFormat
        self.report = report
        self.manifestsFingerprint = manifestsFingerprint
        self.observedFingerprint = observedFingerprint
    }

    /// Why this saved plan must not run, or nil when a plan made now is exactly the saved one.
    ///
    /// A saved plan is a review artifact, never a program: apply re-derives the plan from today's manifests and
    /// host and runs *that*, only when it equals the saved plan change for change (operations included). An
    /// edited file (a unit's command line, a directory to delete, a link to remove) therefore never runs: the
    /// fresh plan does not contain it, and the two differ.
    public func differences(manifests: String, observed: String, freshPlan: Plan) -> [String]? {
        if report.changes == freshPlan.changes && report.conflicts == freshPlan.conflicts && (report.held ?? []) == freshPlan.held {
            return nil
        }
        var reasons: [String] = []
        if manifests != manifestsFingerprint { reasons.append("the manifests changed since the plan was made") }
        if observed != observedFingerprint { reasons.append("the host changed since the plan was made") }
        let saved = report.changes.map(\.summary), now = freshPlan.changes.map(\.summary)
        let gone = saved.filter { !now.contains($0) }, new = now.filter { !saved.contains($0) }
        reasons += gone.map { "  no longer planned: \($0)" } + new.map { "  now also needed: \($0)" }
        if reasons.isEmpty {
            reasons.append("the saved changes differ from what mooring would do now in their details "
                           + "(was the file edited?); review a fresh `mooring plan --out`")
        } else if gone.isEmpty && new.isEmpty {
            reasons.append("  (a fresh plan has the same changes: make it again with `mooring plan --out`)")
        }
        return reasons
    }
}
