import MooringModel

/// What differs between the guests' filter the manifests make and the live one, one line per object, for the
/// plan's details: `+ guest_ipv4 "vm-web-eth0" . 10.0.0.10`, `- rule in guest_ipv6: ...`. Compared as the
/// normalised values the planner compares (so a line is never shown for a difference that is not one).
enum FilterDifferences {
    static let limit = 12

    static func lines(want wanted: NftTable, have live: NftTable?) -> [String] {
        guard let live else { return [] }
        let want = wanted.normalized(), have = live.normalized()
        var lines: [String] = []
        func diff(_ what: String, _ wanted: [String], _ had: [String]) {
            let wantedSet = Set(wanted), hadSet = Set(had)
            lines += wanted.filter { !hadSet.contains($0) }.map { "+ \(what) \($0)" }
            lines += had.filter { !wantedSet.contains($0) }.map { "- \(what) \($0)" }
        }
        for name in Set(want.sets.map(\.name) + have.sets.map(\.name)).sorted() {
            diff(name, want.sets.first { $0.name == name }?.elements.map(elementText) ?? [],
                 have.sets.first { $0.name == name }?.elements.map(elementText) ?? [])
        }
        for name in Set(want.maps.map(\.name) + have.maps.map(\.name)).sorted() {
            diff(name, want.maps.first { $0.name == name }?.elements.map { elementText($0.key) + " : " + $0.value.canonicalText } ?? [],
                 have.maps.first { $0.name == name }?.elements.map { elementText($0.key) + " : " + $0.value.canonicalText } ?? [])
        }
        diff("chain", want.chains.map(\.name), have.chains.map(\.name))
        for chain in Set(want.rules.map(\.chain) + have.rules.map(\.chain)).sorted() {
            let wanted = want.rules.filter { $0.chain == chain }.map(\.expression.canonicalText)
            let had = have.rules.filter { $0.chain == chain }.map(\.expression.canonicalText)
            if wanted.count == had.count, Set(wanted) == Set(had), wanted != had {
                lines.append("~ rules in \(chain): in another order")
            } else {
                diff("rule in \(chain):", wanted, had)
            }
        }
        lines += have.others.map { "- \($0) (not mooring's)" }
        if lines.count > limit { lines = Array(lines.prefix(limit)) + ["... and \(lines.count - limit) more"] }
        return lines
    }

    /// `"vm-web-eth0" . 10.0.0.10`, as nft prints a concatenation.
    private static func elementText(_ value: JSONValue) -> String {
        if let parts = value["concat"]?.array { return parts.map(elementText).joined(separator: " . ") }
        // Interface names quoted, addresses and MACs as they are (nft's own spelling).
        if let text = value.string { return IPAddress(text) != nil || MACAddress(text) != nil || text.contains("/") ? text : "\"\(text)\"" }
        return value.canonicalText
    }
}
