import MooringModel
import MooringPlan

/// Diffs the `inet mooring` table and the forwarding sysctls against what the NAT manifests imply.
/// Other tables are never looked at: the driver lists only mooring's own.
struct NATPlanner {
    let desired: DesiredState
    let observed: ObservedState
    /// Links that exist or that this plan creates.
    let availableLinks: Set<String>


    func plan() -> (changes: [Change], conflicts: [Conflict]) {
        var changes: [Change] = []
        var conflicts: [Conflict] = []
        for nat in desired.nats {
            for (name, role) in [(nat.externalInterface, "external interface")] + nat.internalInterfaces.map({ ($0, "internal interface") })
            where !availableLinks.contains(name) {
                conflicts.append(Conflict(resource: .link(name), group: ChangeGroup(nat.origin),
                                          message: "\(role) \"\(name)\" of \(nat.origin.subject) does not exist on this host",
                                          fix: "create it, fix the name, or declare it as a Bridge",
                                          holds: [.nftTable]))
            }
        }
        changes += sysctlChanges()
        if let change = tableChange() { changes.append(change) }
        return (changes, conflicts)
    }

    /// Forwarding must be on in the target namespace for NAT to route anything. mooring turns it on and
    /// never off: other things on the host may rely on it.
    func sysctlChanges() -> [Change] {
        guard let first = desired.nats.first else { return [] }
        var wanted: [(String, DesiredNAT)] = [("net.ipv4.ip_forward", first)]
        if let v6 = desired.nats.first(where: \.enableIPv6) { wanted.append(("net.ipv6.conf.all.forwarding", v6)) }
        return wanted.compactMap { name, nat in
            let current = observed.sysctls[name]
            guard current != "1" else { return nil }
            return Change(resource: .sysctl(name), group: ChangeGroup(nat.origin), action: .update,
                          summary: "set \(name) = 1", reason: .forwardingNeededForNAT,
                          fields: [FieldChange("value", before: JSONValue(current), after: "1")],
                          operation: .setSysctl(name: name, value: "1"), phase: .sysctls)
        }
    }

    func tableChange() -> Change? {
        let want = NftTableBuilder.table(for: desired.nats)
        let group = desired.nats.first.map { ChangeGroup($0.origin) } ?? .stale
        func rules(_ before: NftTable?, _ after: NftTable?) -> [FieldChange] {
            [FieldChange("rules", before: JSONValue(before?.rules.count), after: JSONValue(after?.rules.count)),
             FieldChange("mapElements", before: JSONValue(before?.maps.reduce(0) { $0 + $1.elements.count }),
                         after: JSONValue(after?.maps.reduce(0) { $0 + $1.elements.count }))]
        }
        switch (want, observed.nftables) {
        case (nil, nil):
            return nil
        case let (nil, have?):
            // The whole table goes: its size says enough, without reading every forward back out of it.
            return Change(resource: .nftTable, group: group, action: .delete,
                          summary: "delete table inet mooring (no NAT manifests)", reason: .noLongerInManifests,
                          fields: rules(have, nil),
                          details: ["- \(have.chains.count) chains, \(have.rules.count) rules, \(have.maps.count) forward maps"],
                          operation: .deleteNftTable, phase: Phase.nftables)
        case let (want?, nil):
            let forwards = ForwardListing.lines(desired.nats)
            return Change(resource: .nftTable, group: group, action: .create,
                          summary: "create table inet mooring (\(want.rules.count) rules, \(forwards.count) forwards)",
                          reason: .declaredBy(desired.nats.map(\.origin.subject)),
                          fields: rules(nil, want),
                          details: Self.details(from: NftTable(), to: want, haveForwards: [], wantForwards: forwards),
                          operation: .replaceNftTable(want), phase: Phase.nftables)
        case let (want?, have?):
            if want.isEquivalent(to: have) { return nil }
            return Change(resource: .nftTable, group: group, action: .update,
                          summary: "replace table inet mooring in one transaction", reason: .liveTableDiffers,
                          fields: rules(have, want),
                          details: Self.details(from: have, to: want, wantForwards: ForwardListing.lines(desired.nats)),
                          operation: .replaceNftTable(want), phase: Phase.nftables)
        }
    }

    /// Rule-level differences: `+ forward tcp 80 -> 10.0.0.10:80 (on eth0)`, `- rule ...`. The forwards of
    /// either side are read from its maps unless given.
    static func details(from have: NftTable, to want: NftTable, haveForwards: [String]? = nil,
                        wantForwards: [String]? = nil) -> [String] {
        var lines: [String] = []
        let haveChains = Set(have.chains), wantChains = Set(want.chains)
        for chain in want.chains where !haveChains.contains(chain) {
            lines.append("+ chain \(chain.name) (\(chain.type) hook \(chain.hook) priority \(chain.priority) policy \(chain.policy))")
        }
        for chain in have.chains where !wantChains.contains(chain) { lines.append("- chain \(chain.name)") }
        lines += have.others.map { "- \($0) (mooring does not make it; its table is replaced whole)" }

        let haveForwards = haveForwards ?? ForwardListing.lines(have), wantForwards = wantForwards ?? ForwardListing.lines(want)
        lines += difference(wantForwards, minus: haveForwards).map { "+ \($0)" }
        lines += difference(haveForwards, minus: wantForwards).map { "- \($0)" }
        let haveMaps = Dictionary(have.maps.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for map in want.maps {
            if let old = haveMaps[map.name], old.keyType != map.keyType || old.dataType != map.dataType || old.flags != map.flags {
                lines.append("~ map \(map.name): type \(old.keyType.joined(separator: " . ")) : \(old.dataType) -> \(map.keyType.joined(separator: " . ")) : \(map.dataType)")
            }
        }

        func label(_ rule: NftRule) -> String { rule.comment ?? "\(rule.chain): \(rule.expression)" }
        let added = difference(want.rules, minus: have.rules)
        let removed = difference(have.rules, minus: want.rules)
        lines += added.map { "+ rule \($0.chain): \(label($0))" }
        lines += removed.map { "- rule \($0.chain): \(label($0))" }
        if added.isEmpty && removed.isEmpty {
            for chain in want.chains where want.rules.filter({ $0.chain == chain.name }) != have.rules.filter({ $0.chain == chain.name }) {
                lines.append("~ chain \(chain.name): rules out of order")
            }
        }
        return lines
    }

    /// Multiset difference, keeping order.
    static func difference<T: Hashable>(_ left: [T], minus right: [T]) -> [T] {
        var counts: [T: Int] = [:]
        for item in right { counts[item, default: 0] += 1 }
        return left.filter { item in
            if let count = counts[item], count > 0 { counts[item] = count - 1; return false }
            return true
        }
    }
}
