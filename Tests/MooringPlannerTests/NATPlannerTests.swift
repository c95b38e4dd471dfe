import Foundation
import MooringModel
import MooringPlan
@testable import MooringPlanner
import MooringReports
import Testing

struct NATPlannerTests {
    static func nat(_ name: String = "edge", external: String = "eth0", internals: [String] = ["br0"], ipv6: Bool = false,
                    forwards: [DesiredForward] = []) -> DesiredNAT {
        DesiredNAT(origin: Fixture.origin(.nat, name), externalInterface: external, internalInterfaces: internals,
                   enableIPv6: ipv6, forwards: forwards)
    }

    static let forwards = [
        DesiredForward(proto: .tcp, sourcePort: PortRange(single: 80), destination: IPAddress("10.0.0.10")!, destinationPort: 8080),
        DesiredForward(proto: .udp, sourcePort: PortRange(5000, 5010), destination: IPAddress("10.0.0.11")!),
        DesiredForward(proto: .tcp, sourcePort: PortRange(single: 443), destination: IPAddress("fd12::10")!, destinationPort: 443,
                       loopback: true),
    ]

    @Test func tableHasOneLookupRulePerMapPairNotPerForward() throws {
        let table = try #require(NftTableBuilder.table(for: [Self.nat(ipv6: true, forwards: Self.forwards)]))
        #expect(Set(table.chains.map(\.name)) == ["postrouting", "prerouting", "output", "forward"])
        #expect(table.maps.map(\.name) == ["fwd4_addr", "fwd4_keep", "fwd4_port", "fwd6_addr", "fwd6_port", "lo6_addr", "lo6_port"])
        #expect(table.rules.filter { $0.chain == "prerouting" }.count == 3)
        #expect(table.rules.filter { $0.chain == "output" }.count == 1)
        #expect(ForwardListing.lines(table) == [
            "forward tcp 443 -> [fd12::10]:443 (from this host)",
            "forward tcp 443 -> [fd12::10]:443 (on eth0)",
            "forward tcp 80 -> 10.0.0.10:8080 (on eth0)",
            "forward udp 5000-5010 -> 10.0.0.11 (on eth0)",
        ])
    }

    @Test func forwardLinesAndElementsReadBackAsWritten() throws {
        let nats = [Self.nat(ipv6: true, forwards: Self.forwards)]
        let table = try #require(NftTableBuilder.table(for: nats))
        // Forward lines written from the manifests equal the ones read back from the table's maps.
        #expect(ForwardListing.lines(nats) == ForwardListing.lines(table))
        // Elements are values in libnftables' shape: written out and read back, they are the same values.
        let udp = try #require(table.maps.first { $0.name == "fwd4_keep" }?.elements.first)
        #expect(udp.json.canonicalText == #"[{"concat":["eth0",17,{"range":[5000,5010]}]},"10.0.0.11"]"#)
        // Strings are escaped where they are written: a quote or backslash can never end one early.
        let hostile = NftMapElement(key: ["concat": ["e\"x\\", 6, 80]], value: "10.0.0.10")
        #expect(NftMapElement(json: try #require(JSONValue.parse(hostile.json.canonicalText))) == hostile)
    }

    @Test func aThousandForwardsStayTwoRules() throws {
        let forwards = (0..<1000).map {
            DesiredForward(proto: .tcp, sourcePort: PortRange(single: 10000 + $0), destination: IPAddress("10.0.\($0 / 250).\($0 % 250 + 2)")!,
                           destinationPort: 80)
        }
        let table = try #require(NftTableBuilder.table(for: [Self.nat(forwards: forwards)]))
        #expect(table.rules.filter { $0.chain == "prerouting" }.count == 1)
        #expect(table.maps.first { $0.name == "fwd4_addr" }?.elements.count == 1000)
    }

    @Test func ipv6MasqueradeOnlyWhenEnabled() throws {
        let v4 = try #require(NftTableBuilder.table(for: [Self.nat()]))
        #expect(v4.rules.compactMap(\.comment).filter { $0.contains("masquerade") } == ["NAT/edge: masquerade ipv4 br0 -> eth0"])
        let both = try #require(NftTableBuilder.table(for: [Self.nat(ipv6: true)]))
        #expect(both.rules.compactMap(\.comment).filter { $0.contains("masquerade") }.count == 2)
        #expect(!both.chains.contains { $0.name == "prerouting" }, "no forwards, no DNAT chain")
    }

    @Test func inSyncWhenTheLiveTableIsTheSameInAnotherOrder() throws {
        let table = try #require(NftTableBuilder.table(for: [Self.nat(forwards: Self.forwards)]))
        var shuffled = table
        shuffled.chains.reverse()
        shuffled.maps.reverse()
        for index in shuffled.maps.indices { shuffled.maps[index].elements.reverse() }
        var observed = ObservedState(sysctls: ["net.ipv4.ip_forward": "1"])
        observed.nftables = shuffled
        let links = Fixture.Links()
        observed.links = links.links
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], nats: [Self.nat(forwards: Self.forwards)])
        let changes = NATPlanner(desired: desired, observed: observed, availableLinks: ["eth0", "br0"]).plan().changes
        #expect(changes.isEmpty)
    }

    @Test func driftIsShownRuleByRule() throws {
        let desired = DesiredState(nats: [Self.nat(forwards: Self.forwards)])
        var live = try #require(NftTableBuilder.table(for: desired.nats))
        live.rules.removeAll { $0.comment?.contains("masquerade") == true }
        live.maps = live.maps.map { map in var copy = map; copy.elements = copy.elements.filter { !$0.json.canonicalText.contains("5000") }; return copy }
        live.rules.append(NftRule(chain: "forward", comment: nil, expression: [["accept": .null]]))
        let observed = ObservedState(nftables: live, sysctls: ["net.ipv4.ip_forward": "0"])
        let changes = NATPlanner(desired: desired, observed: observed, availableLinks: ["eth0", "br0"]).plan().changes
        #expect(changes.map(\.summary) == ["set net.ipv4.ip_forward = 1", "replace table inet mooring in one transaction"])
        #expect(changes[1].details == [
            "+ forward udp 5000-5010 -> 10.0.0.11 (on eth0)",
            "+ rule postrouting: NAT/edge: masquerade ipv4 br0 -> eth0",
            "- rule forward: forward: [{\"accept\":null}]",
        ])
        guard case .replaceNftTable = changes[1].operation else { Issue.record("want a whole-table replacement"); return }
    }

    @Test func noNATDeletesTheTableAndMissingInterfacesConflict() {
        let observed = ObservedState(nftables: NftTable(rules: [NftRule(chain: "forward", comment: "x", expression: "[]")]))
        let deletion = NATPlanner(desired: DesiredState(), observed: observed, availableLinks: []).plan()
        #expect(deletion.changes.map(\.operation) == [.deleteNftTable])
        let missing = NATPlanner(desired: DesiredState(nats: [Self.nat()]), observed: ObservedState(), availableLinks: ["br0"]).plan()
        #expect(missing.conflicts.map(\.message) == ["external interface \"eth0\" of NAT \"edge\" does not exist on this host"])
    }
}
