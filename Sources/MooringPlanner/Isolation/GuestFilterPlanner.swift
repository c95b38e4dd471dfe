import MooringModel
import MooringPlan

/// The guests' filter: one `bridge mooring` nftables table whose base chain sees every frame a guest's tap sends
/// into its bridge (prerouting, priority -200, before the bridge forwards it or hands it to the host), checks
/// the port and source MAC, sends ARP, IPv4 and IPv6 to a chain of their own checks each, and drops
/// what the guest has no business sending: another MAC, another address (IPv4, ARP, IPv6), a router
/// advertisement or redirect, a DHCP or DHCPv6 server's message, anything but ARP, IPv4 and IPv6.
///
/// Every port is held to its own addresses in **every** family, whatever it declares: a guest may claim (as
/// an ARP sender, a neighbour advertisement's target, an IPv4 or IPv6 source) only its declared addresses and
/// its own link-local address (the EUI-64 one its MAC gives, the kernel's default), never another guest's, the
/// bridge's or a gateway's. A family the guest declares nothing in gets the default a guest without an address
/// needs and no more: ARP probes (sender 0.0.0.0), DHCP discovery (0.0.0.0:68 to 67), duplicate address
/// detection and MLD from the unspecified address, and its link-local address; no other claim. (The filter
/// used to check only the declared families and to trust every fe80::/10 source: a v4-only guest could
/// advertise a neighbour's IPv6 address, a v6-only guest could ARP for the gateway.) DHCP and DHCPv6 server
/// messages are dropped by either port (from 67 or to 68; from 547 or to 546), and ICMPv6 in a fragment is
/// dropped (neighbour discovery is never fragmented, RFC 6980, and a fragment hides its type). Frames from
/// other ports (the uplink, the host, a DHCP server on the LAN) are not this filter's.
///
/// Per-guest facts are set elements keyed by interface name, so a frame costs a few hash lookups however many
/// guests there are. A macvtap is no bridge port: its guest's frames get the same rules in a second table,
/// `netdev mooring`, at each macvtap's egress hook (what the VMM writes into a macvtap leaves through that hook
/// before the macvtap delivers it to its parent or a sibling). Built here, compared as values, replaced as a
/// whole in one transaction.
struct GuestFilterPlanner {
    let desired: DesiredState
    let observed: ObservedState

    static let chain = "from_guests"
    static let toGuestsChain = "to_guests"
    /// A regular chain only neighbour advertisements jump to: its one rule per IPv6 port costs nothing to other frames.
    static let advertsChain = "neighbour_adverts"
    /// Each protocol's checks, entered by `goto` from the main chain's verdict map on the ethertype.
    static let arpChain = "guest_arp"
    static let ipv4Chain = "guest_ipv4"
    static let ipv6Chain = "guest_ipv6"
    static let jumpToAdverts: [JSONValue] = [match("==", payload("icmpv6", "type"), "nd-neighbor-advert"), jump(advertsChain)]
    /// A macvtap's base chain in `netdev mooring`: the device is in the name, since libnftables 1.0.6 does not
    /// list a netdev chain's device in JSON (the name makes a chain for another device differ).
    static func egressChain(_ device: String) -> String { "egress_" + device }

    /// The guests' taps under the filter: a tap on a bridge whose `antiSpoofing` is on (by default for the VMs
    /// mooring runs; with `vmm: none` only when the manifest asks, since another tool picks the guest's MAC).
    static func protectedInterfaces(_ desired: DesiredState) -> [DesiredInterface] {
        desired.microVMs.flatMap(\.interfaces).filter { $0.type == .tap && $0.bridge != nil && $0.antiSpoofing }
    }

    /// A listed `netdev mooring` made writable again: each egress chain's device, which the listing leaves out,
    /// from the chain's name (egressChain).
    static func withDevices(_ table: NftTable) -> NftTable {
        var copy = table
        copy.chains = table.chains.map { chain in
            var chain = chain
            if chain.hook == "egress", chain.device == nil, chain.name.hasPrefix("egress_") { chain.device = String(chain.name.dropFirst("egress_".count)) }
            return chain
        }
        return copy
    }

    /// The guests' macvtaps under the filter (the same choice as for taps).
    static func protectedMacvtaps(_ desired: DesiredState) -> [DesiredInterface] {
        desired.microVMs.flatMap(\.interfaces).filter { $0.type == .macvtap && $0.antiSpoofing }
    }

    /// The guests' taps with a bandwidth limit (whether or not they are also filtered).
    static func limitedInterfaces(_ desired: DesiredState) -> [DesiredInterface] {
        desired.microVMs.flatMap(\.interfaces).filter { $0.type == .tap && $0.bridge != nil && $0.rateLimit != nil }
    }

    func plan() -> [Change] { bridgeTableChanges() + macvtapTableChanges() }

    private func macvtapTableChanges() -> [Change] {
        let interfaces = Self.protectedMacvtaps(desired)
        let want = interfaces.isEmpty ? nil : Self.macvtapTable(interfaces)
        let have = observed.macvtapFilter
        if want?.normalized() == have?.normalized() { return [] }
        guard let want else {
            return [Change(resource: .macvtapFilter, group: .stale, action: .delete,
                           summary: "delete table netdev mooring (no macvtap is filtered any more)", reason: .noManifestNeedsIt,
                           operation: .deleteGuestFilter(family: NftTable.netdevFamily), phase: .deviceFilters)]
        }
        let devices = interfaces.map(\.hostDeviceName)
        return [Change(resource: .macvtapFilter, group: .guestFilter, action: have == nil ? .create : .update,
                       summary: "\(have == nil ? "create" : "replace") table netdev mooring: anti-spoofing for \(devices.count) macvtap\(devices.count == 1 ? "" : "s")",
                       reason: .guestFilter(antiSpoofing: true, rateLimits: false),
                       fields: [FieldChange("ports", before: have == nil ? .null : JSONValue(have?.sets.first { $0.name == "guest_ports" }?.elements.count ?? 0),
                                            after: JSONValue(devices.count))],
                       details: Self.portDetails(devices, want: want, have), operation: .replaceGuestFilter(want), phase: .deviceFilters)]
    }

    /// `+ filter vm-a-eth0`, `- filter vm-b-eth0`, and what else differs, object by object.
    static func portDetails(_ ports: [String], want: NftTable, _ have: NftTable?) -> [String] {
        let before = Set(have?.sets.first { $0.name == "guest_ports" }?.elements.compactMap(\.string) ?? [])
        let details = ports.filter { !before.contains($0) }.map { "+ filter \($0)" } + before.subtracting(ports).sorted().map { "- filter \($0)" }
        guard have != nil else { return details }
        return details.isEmpty ? FilterDifferences.lines(want: want, have: have) : details
    }

    private func bridgeTableChanges() -> [Change] {
        let interfaces = Self.protectedInterfaces(desired)
        let limited = Self.limitedInterfaces(desired)
        let want = interfaces.isEmpty && limited.isEmpty ? nil : Self.table(interfaces, limited: limited)
        let have = observed.guestFilter
        if want?.normalized() == have?.normalized() { return [] }
        guard let want else {
            return [Change(resource: .guestFilter, group: .stale, action: .delete,
                           summary: "delete table bridge mooring (no guest is filtered any more)", reason: .noManifestNeedsIt,
                           operation: .deleteGuestFilter(family: NftTable.bridgeFamily), phase: .nftables)]
        }
        let ports = interfaces.map(\.hostDeviceName)
        let before = have?.sets.first { $0.name == "guest_ports" }?.elements.count
        return [Change(resource: .guestFilter, group: .guestFilter, action: have == nil ? .create : .update,
                       summary: "\(have == nil ? "create" : "replace") table bridge mooring: " + Self.purpose(filtered: ports.count, limited: limited.count),
                       reason: .guestFilter(antiSpoofing: ports.count > 0 || limited.isEmpty, rateLimits: !limited.isEmpty),
                       fields: [FieldChange("ports", before: before.map { JSONValue($0) } ?? .null, after: JSONValue(ports.count))],
                       details: Self.portDetails(ports, want: want, have), operation: .replaceGuestFilter(want), phase: .nftables)]
    }

    /// `anti-spoofing for 2 guest interfaces, rate limits on 1`.
    static func purpose(filtered: Int, limited: Int) -> String {
        var parts: [String] = []
        if filtered > 0 { parts.append("anti-spoofing for \(filtered) guest interface\(filtered == 1 ? "" : "s")") }
        if limited > 0 { parts.append("rate limits on \(limited)") }
        return parts.joined(separator: ", ")
    }

    /// The whole table, in the shape libnftables lists it (so desired and observed compare as values).
    static func table(_ interfaces: [DesiredInterface], limited: [DesiredInterface] = []) -> NftTable {
        var table = NftTable(chains: [NftChain(name: chain, type: "filter", hook: "prerouting", priority: -200)])
        table.family = NftTable.bridgeFamily
        table.sets = sets(interfaces)
        // Bandwidth first: a frame over its port's limit goes before any other check.
        let fromGuests = limited.compactMap { interface in interface.rateLimit?.fromGuest.map { policer(iifname, interface.hostDeviceName, $0) } }
        let toGuests = limited.compactMap { interface in interface.rateLimit?.toGuest.map { policer(oifname, interface.hostDeviceName, $0) } }
        table.rules = fromGuests.map { NftRule(chain: chain, comment: nil, expression: .array($0)) }
        // Only limits, no guest filtered: the policers alone.
        if !interfaces.isEmpty { addChecks(to: &table, port: iifname, interfaces) }
        if !toGuests.isEmpty {
            // Frames the bridge sends out of a guest's port, forwarded or from the host: the last hook before the tap.
            table.chains.append(NftChain(name: toGuestsChain, type: "filter", hook: "postrouting", priority: -200))
            table.rules += toGuests.map { NftRule(chain: toGuestsChain, comment: nil, expression: .array($0)) }
        }
        return table
    }

    /// `netdev mooring`: one base chain per macvtap at its egress hook, each jumping to one regular chain with
    /// the bridge table's rules, keyed by the sending device (`oifname` at egress) instead of the bridge port.
    static func macvtapTable(_ interfaces: [DesiredInterface]) -> NftTable {
        var table = NftTable(chains: [NftChain(name: chain, type: "", hook: "", priority: 0)])
        table.family = NftTable.netdevFamily
        table.sets = sets(interfaces)
        addChecks(to: &table, port: oifname, interfaces)
        for device in interfaces.map(\.hostDeviceName) {
            table.chains.append(NftChain(name: egressChain(device), type: "filter", hook: "egress", priority: -200, device: device))
            table.rules.append(NftRule(chain: egressChain(device), comment: nil, expression: [jump(chain)]))
        }
        return table
    }

    /// The checks' rules (after any already in the main chain) and their protocol chains.
    private static func addChecks(to table: inout NftTable, port: JSONValue, _ interfaces: [DesiredInterface]) {
        table.maps.append(frameMap(interfaces))
        for (name, rules) in chains(port) {
            if !table.chains.contains(where: { $0.name == name }) { table.chains.append(NftChain(name: name, type: "", hook: "", priority: 0)) }
            table.rules += rules.map { NftRule(chain: name, comment: nil, expression: .array($0)) }
        }
        table.chains.append(NftChain(name: advertsChain, type: "", hook: "", priority: 0))
        table.rules += interfaces.map { NftRule(chain: advertsChain, comment: nil, expression: .array(neighbourAdvertTargets($0, port: port))) }
    }

    /// The addresses a guest may claim on this interface, per family: what it declares, and in IPv6 its own
    /// link-local address and its SLAAC addresses in the /64s its bridge announces.
    static func claimable(_ interface: DesiredInterface) -> (ipv4: [IPAddress], ipv6: [IPAddress]) {
        let declared = interface.addresses.map(\.address)
        let linkLocal = linkLocalAddress(interface.mac)
        // Sorted, as nftables lists a set's elements (the rule then compares equal to its listing).
        return (declared.filter(\.isIPv4), Set(declared.filter { !$0.isIPv4 } + [linkLocal] + interface.slaacAddresses).sorted())
    }

    /// The link-local address the kernel gives an interface with this MAC by default (EUI-64, RFC 4291 2.5.1).
    static func linkLocalAddress(_ mac: MACAddress) -> IPAddress {
        let m = mac.bytes
        return IPAddress(family: .ipv6, bytes: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
    }

    /// Where each guest's frames go: (port, its MAC, ARP | IPv4 | IPv6) -> that protocol's chain. Elements in the
    /// order libnftables lists a map's (by ethertype within a port), so the table compares equal to its listing.
    private static func frameMap(_ interfaces: [DesiredInterface]) -> NftMap {
        let protocols = [("ip", ipv4Chain), ("arp", arpChain), ("ip6", ipv6Chain)]
        return NftMap(name: "guest_frames", keyType: ["ifname", "ether_addr", "ether_type"], dataType: "verdict", flags: [],
                      elements: interfaces.flatMap { interface in
                          protocols.map { type, target in
                              NftMapElement(key: ["concat": [.string(interface.hostDeviceName), .string(interface.mac.description), .string(type)]],
                                            value: ["goto": ["target": .string(target)]])
                          }
                      })
    }

    /// The per-guest facts, keyed by the guest's host device: its MAC, and its addresses per family.
    private static func sets(_ interfaces: [DesiredInterface]) -> [NftSet] {
        func pair(_ interface: DesiredInterface, _ value: String) -> JSONValue { ["concat": [.string(interface.hostDeviceName), .string(value)]] }
        return [
            NftSet(name: "guest_ports", keyType: ["ifname"], elements: interfaces.map { .string($0.hostDeviceName) }),
            NftSet(name: "guest_macs", keyType: ["ifname", "ether_addr"], elements: interfaces.map { pair($0, $0.mac.description) }),
            NftSet(name: "guest_ipv4", keyType: ["ifname", "ipv4_addr"],
                   elements: interfaces.flatMap { interface in claimable(interface).ipv4.map { pair(interface, $0.description) } }),
            NftSet(name: "guest_ipv6", keyType: ["ifname", "ipv6_addr"],
                   elements: interfaces.flatMap { interface in claimable(interface).ipv6.map { pair(interface, $0.description) } }),
        ]
    }

    // One builder per expression, as libnftables' JSON spells them.
    private static func match(_ op: String, _ left: JSONValue, _ right: JSONValue) -> JSONValue {
        ["match": ["op": .string(op), "left": left, "right": right]]
    }
    private static func payload(_ proto: String, _ field: String) -> JSONValue { ["payload": ["protocol": .string(proto), "field": .string(field)]] }
    private static let iifname: JSONValue = ["meta": ["key": "iifname"]]
    private static func jump(_ target: String) -> JSONValue { ["jump": ["target": .string(target)]] }
    private static let oifname: JSONValue = ["meta": ["key": "oifname"]]
    private static let accept: JSONValue = ["accept": .null]
    /// `meta l4proto ipv6-icmp`: the protocol after any extension headers; libnftables lists it as its number.
    private static let icmpv6Protocol = match("==", ["meta": ["key": "l4proto"]], 58)

    /// Drops a port's frames beyond `rate` bytes per second (a token bucket: a policer, as libvirt's and
    /// Firecracker's limits are). The bucket holds a tenth of a second's worth, at least 64 KiB, so TCP keeps
    /// its window and reaches the rate instead of collapsing under drops.
    static func policer(_ key: JSONValue, _ port: String, _ rate: UInt64) -> [JSONValue] {
        [match("==", key, .string(port)),
         ["limit": ["rate": JSONValue(Int(rate)), "burst": JSONValue(Int(max(rate / 10, 65_536))), "per": "second", "inv": true,
                    "rate_unit": "bytes", "burst_unit": "bytes"]],
         drop]
    }
    private static let drop: JSONValue = ["drop": .null]

    /// The checks, per chain, in order: the first match decides; a frame that leaves a protocol's chain without
    /// a verdict is accepted (the base chain's policy; the chains are entered by `goto`), which only the main
    /// chain's other ports do: each protocol's chain ends in a drop. Each line says what it stops. `port` names
    /// the guest's device: the bridge port a frame came in on, or the macvtap it leaves through. The base chain's
    /// one lookup (port, source MAC, ethertype) sends a guest's frame to its protocol's chain, where a frame from
    /// the guest's own address is accepted after the server-message checks: a legitimate IPv4 frame passes 4
    /// rules, IPv6 7, however many guests there are (docs/performance.md measures what a rule costs).
    static func chains(_ port: JSONValue) -> [(chain: String, rules: [[JSONValue]])] {
        func byPort(_ proto: String, _ field: String) -> JSONValue { ["concat": [port, payload(proto, field)]] }
        let frameKey: JSONValue = ["concat": [port, payload("ether", "saddr"), payload("ether", "type")]]
        return [
            (chain, [
                // A guest's port, its own MAC, ARP, IPv4 or IPv6: on to that protocol's checks.
                [["vmap": ["key": frameKey, "data": "@guest_frames"]]],
                // Anything else from a guest's port: another guest's (or the gateway's) MAC, which would move it onto
                // this port in the bridge's FDB; VLAN tags (802.1Q, 802.1ad), spanning tree, other protocols. Other
                // ports (the uplink, the host, VMs run by another tool) pass.
                [match("==", port, "@guest_ports"), drop],
            ]),
            (arpChain, [
                // ARP that claims another MAC, or an address that is not the guest's (a fake reply for the gateway,
                // a neighbour's address): only its own IPv4 addresses, and probes (sender 0.0.0.0), pass.
                [match("!=", byPort("arp", "saddr ether"), "@guest_macs"), drop],
                [match("==", byPort("arp", "saddr ip"), "@guest_ipv4"), accept],
                [match("==", payload("arp", "saddr ip"), "0.0.0.0"), accept],
                [drop],
            ]),
            (ipv4Chain, [
                // A DHCP server's messages, by either port: from the server port, or to the client port.
                [match("==", payload("udp", "sport"), 67), drop],
                [match("==", payload("udp", "dport"), 68), drop],
                [match("==", byPort("ip", "saddr"), "@guest_ipv4"), accept],
                // DHCP discovery, before the guest has an address.
                [match("==", payload("ip", "saddr"), "0.0.0.0"), match("==", payload("udp", "sport"), 68),
                 match("==", payload("udp", "dport"), 67), accept],
                // Any other source: another guest's, the bridge's, a gateway's, or one the guest did not declare.
                [drop],
            ]),
            (ipv6Chain, [
                // A DHCPv6 server's messages, by either port; router advertisements and redirects (only routers send
                // them); ICMPv6 in a fragment (neighbour discovery is never fragmented, and a fragment can hide the type).
                [match("==", payload("udp", "sport"), 547), drop],
                [match("==", payload("udp", "dport"), 546), drop],
                [match("==", payload("icmpv6", "type"), ["set": ["nd-router-advert", "nd-redirect"]]), drop],
                [match("==", ["exthdr": ["name": "frag"]], true), icmpv6Protocol, drop],
                // Neighbour advertisements: their target is checked per port (neighbourAdvertTargets), even from the
                // guest's own address.
                jumpToAdverts,
                // Its declared addresses and its own link-local one.
                [match("==", byPort("ip6", "saddr"), "@guest_ipv6"), accept],
                // Duplicate address detection and MLD reports come from the unspecified address.
                [match("==", payload("ip6", "saddr"), "::"), icmpv6Protocol, accept],
                [drop],
            ]),
        ]
    }

    /// A neighbour advertisement must be for one of the guest's own IPv6 addresses (declared, or its own
    /// link-local one): one that names another guest's address, or the bridge's, would redirect its traffic.
    /// nftables 1.0.6 has no `icmpv6 taddr`, so the target is the 128 bits at offset 8 of the ICMPv6 header,
    /// compared as an integer, one rule per port, in a chain only advertisements jump to (other frames never see
    /// these rules).
    static func neighbourAdvertTargets(_ interface: DesiredInterface, port: JSONValue) -> [JSONValue] {
        func hex(_ address: IPAddress) -> String {
            "0x" + address.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        let allowed: [JSONValue] = claimable(interface).ipv6.map { .string(hex($0)) }
        // One value is listed as the value itself, not as a set of one (a guest with only its link-local address).
        return [match("==", port, .string(interface.hostDeviceName)),
                match("!=", ["payload": ["base": "th", "offset": 64, "len": 128]], allowed.count == 1 ? allowed[0] : ["set": .array(allowed)]), drop]
    }
}
