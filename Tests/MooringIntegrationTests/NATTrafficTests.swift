import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Testing

/// Real traffic through mooring's NAT: a client namespace outside, the host namespace running mooring, and a
/// guest namespace on the internal bridge (its veth listed in Bridge.spec.ports) serving TCP and UDP.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
final class NATTrafficTests {
    let host: Harness
    let client: TestNamespace
    let guest: TestNamespace
    var servers: [BackgroundProcess] = []

    init() throws {
        host = try Harness("mh")
        client = try TestNamespace("mc")
        guest = try TestNamespace("mg")
        // client (198.51.100.2, 2001:db8:1::2) <-> host ext0 (198.51.100.1, 2001:db8:1::1)
        try host.ns.connectClient(client, v6Net: 1)
        // guest g0 (10.0.0.10, fd12::10) <-> host gport, a port of the bridge mooring manages
        try host.ns.ip("link", "add", "gport", "type", "veth", "peer", "name", "g0", "netns", guest.name)
        try guest.ip("addr", "add", "10.0.0.10/24", "dev", "g0")
        try guest.ip("addr", "add", "fd12::10/64", "dev", "g0", "nodad")
        try guest.ip("link", "set", "g0", "up")
        try guest.ip("route", "add", "default", "via", "10.0.0.1")
        try guest.ip("-6", "route", "add", "default", "via", "fd12::1")

        try host.manifests.write("bridge.yaml", Manifests.bridge("natbr", addresses: ["10.0.0.1/24", "fd12::1/64"], ports: ["gport"]))
        try host.manifests.write("nat.yaml", Manifests.header + """
            kind: NAT
            metadata: {name: edge}
            spec:
              externalInterface: ext0
              internalInterfaces: [natbr]
              enableIPv6: true
              forwardPorts:
                - {proto: tcp, sourcePort: 8080, destination: "10.0.0.10:80"}
                - {proto: tcp, sourcePort: 8080, destination: "[fd12::10]:80"}
                - {proto: udp, sourcePort: 5353, destination: "10.0.0.10:53"}
                - {proto: tcp, sourcePort: "9000:9010", destination: 10.0.0.10}
                - {proto: tcp, sourcePort: 8081, destination: "10.0.0.10:80", loopback: true}
            """)
    }

    deinit { for server in servers { server.stop() } }

    private func serve(_ namespace: TestNamespace, _ arguments: String...) throws {
        servers.append(try BackgroundProcess(["ip", "netns", "exec", namespace.name] + arguments))
    }

    /// Sends `input` with socat from `namespace` and returns what came back, with a peer address in the
    /// answer put in canonical form (socat prints IPv6 peers fully expanded, in brackets).
    private func talk(_ namespace: TestNamespace, _ address: String, input: String = "") throws -> String {
        let bounded = address.hasPrefix("TCP") ? address + ",connect-timeout=2" : address
        let output = try Shell.run(["ip", "netns", "exec", namespace.name, "socat", "-T2", "-", bounded], input: input)
        var words = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        if words.count == 2, let peer = IPAddress(words[1].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) {
            words[1] = peer.description
        }
        return words.joined(separator: " ")
    }

    private func startGuestServers() throws {
        // TCP 80 and 9005 answer with the peer address the guest sees; UDP 53 echoes.
        try serve(guest, "socat", "TCP4-LISTEN:80,fork,reuseaddr", "SYSTEM:echo guest-80 $SOCAT_PEERADDR")
        try serve(guest, "socat", "TCP6-LISTEN:80,fork,reuseaddr,ipv6only=1", "SYSTEM:echo guest-80 $SOCAT_PEERADDR")
        try serve(guest, "socat", "TCP-LISTEN:9005,fork,reuseaddr", "SYSTEM:echo guest-9005")
        try serve(guest, "socat", "UDP-LISTEN:53,fork,reuseaddr", "PIPE")
        try serve(client, "socat", "TCP4-LISTEN:7000,fork,reuseaddr", "SYSTEM:echo client $SOCAT_PEERADDR")
        try serve(client, "socat", "TCP6-LISTEN:7000,fork,reuseaddr,ipv6only=1", "SYSTEM:echo client $SOCAT_PEERADDR")
        #expect(try eventually { try talk(guest, "TCP:127.0.0.1:80").hasPrefix("guest-80") })
        #expect(try eventually { try talk(client, "TCP:127.0.0.1:7000").hasPrefix("client") })
    }

    @Test func forwardsAndMasqueradeCarryRealTraffic() throws {
        #expect(try host.apply().converged)
        try startGuestServers()

        // Inbound forwards: IPv4 single port (the guest sees the real client), IPv6, UDP, a range keeping the port.
        #expect(try eventually { try talk(client, "TCP:198.51.100.1:8080") == "guest-80 198.51.100.2" })
        // Forwarded IPv6 needs neighbour discovery from the new bridge's link-local address, which the kernel
        // only uses once its duplicate address detection is over (about a second).
        #expect(try eventually { try talk(client, "TCP6:[2001:db8:1::1]:8080") == "guest-80 2001:db8:1::2" })
        #expect(try talk(client, "UDP:198.51.100.1:5353", input: "ping-udp") == "ping-udp")
        #expect(try talk(client, "TCP:198.51.100.1:9005") == "guest-9005")
        // Outbound: the client sees the host's external address (masquerade), over IPv4 and IPv6.
        #expect(try talk(guest, "TCP:198.51.100.2:7000") == "client 198.51.100.1")
        #expect(try eventually { try talk(guest, "TCP6:[2001:db8:1::2]:7000") == "client 2001:db8:1::1" })
        // loopback: true makes the forward reachable from the host itself; the others are not.
        #expect(try talk(host.ns, "TCP:198.51.100.1:8081").hasPrefix("guest-80"))
        #expect(try talk(host.ns, "TCP:198.51.100.1:8080").isEmpty)
        // Only forwards and replies enter the bridge from outside: a routed connection straight to the guest is dropped.
        try client.ip("route", "add", "10.0.0.0/24", "via", "198.51.100.1")
        #expect(try talk(client, "TCP:10.0.0.10:80").isEmpty)
    }

    @Test func handMadeRuleDriftIsReportedAndRepaired() throws {
        #expect(try host.apply().converged)
        try startGuestServers()
        // A rule deleted by hand.
        let listing = try host.ns.exec("nft", "-a", "list", "chain", "inet", "mooring", "prerouting").stdout
        let handle = try #require(listing.split(separator: "\n").first { $0.contains("(ipv4)\"") }?
            .split(separator: " ").last.map(String.init))
        try host.ns.exec("nft", "delete", "rule", "inet", "mooring", "prerouting", "handle", handle)
        #expect(try eventually(timeout: 1) { try talk(client, "TCP:198.51.100.1:8080").isEmpty })
        let report = try host.cli("plan")
        #expect(report.status == 2)
        #expect(report.stdout.contains("~ replace table inet mooring in one transaction"))
        #expect(report.stdout.contains("+ rule prerouting: mooring: port forwards (ipv4)"))
        #expect(try host.cli("apply").status == 0)
        #expect(try talk(client, "TCP:198.51.100.1:8080") == "guest-80 198.51.100.2")

        // A chain flushed by hand.
        try host.ns.exec("nft", "flush", "chain", "inet", "mooring", "postrouting")
        let plan = try host.plan()
        #expect(plan.changes.first?.details.contains("+ rule postrouting: NAT/edge: masquerade ipv4 natbr -> ext0") == true)
        #expect(try host.apply().converged)
        #expect(try talk(guest, "TCP:198.51.100.2:7000") == "client 198.51.100.1")

        // A forward element removed by hand shows as a forward line.
        try host.ns.exec("nft", "delete", "element", "inet", "mooring", "fwd4_keep", "{ \"ext0\" . tcp . 9000-9010 }")
        #expect(try host.plan().changes.first?.details == ["+ forward tcp 9000-9010 -> 10.0.0.10 (on ext0)"])
        #expect(try host.apply().converged)

        // An object mooring never makes, added to its table, is drift too: shown, and gone after apply.
        try host.ns.exec("nft", "add", "set", "inet", "mooring", "extra", "{ type ipv4_addr; }")
        try host.ns.exec("nft", "add", "counter", "inet", "mooring", "hits")
        let drift = try host.plan()
        #expect(drift.changes.first?.details.contains("- set extra (mooring does not make it; its table is replaced whole)") == true,
                "\(drift.changes.map(\.details))")
        #expect(drift.changes.first?.details.contains("- counter hits (mooring does not make it; its table is replaced whole)") == true)
        #expect(try host.apply().converged)
        #expect(try host.ns.exec("nft", "list", "set", "inet", "mooring", "extra").status != 0)
    }

    @Test func aUsersOwnTableIsNeverTouchedAndRemovingNATDeletesOurs() throws {
        try host.ns.exec("nft", "add", "table", "inet", "filter")
        try host.ns.exec("nft", "add", "chain", "inet", "filter", "input", "{ type filter hook input priority 0; policy accept; }")
        try host.ns.exec("nft", "add", "rule", "inet", "filter", "input", "tcp", "dport", "22", "accept", "comment", "\"ssh\"")
        func userTable() throws -> String { try host.ns.exec("nft", "-a", "-j", "list", "table", "inet", "filter").stdout }
        let before = try userTable()

        #expect(try host.apply().converged)
        try host.ns.exec("nft", "flush", "chain", "inet", "mooring", "forward")
        #expect(try host.apply().converged)
        try host.manifests.remove("nat.yaml")
        let plan = try host.plan()
        #expect(plan.summaries == ["delete table inet mooring (no NAT manifests)"])
        #expect(try host.apply().converged)
        #expect(try host.ns.exec("nft", "list", "table", "inet", "mooring").status != 0)
        #expect(try userTable() == before, "the user's table must stay byte-for-byte the same, handles included")
        // Forwarding is left on: other things may rely on it.
        #expect(try host.ns.exec("sysctl", "-n", "net.ipv4.ip_forward").stdout.hasPrefix("1"))
    }

    @Test func aMissingExternalInterfaceIsAConflict() throws {
        try host.ns.ip("link", "del", "ext0")
        let plan = try host.plan()
        #expect(plan.conflicts.map(\.message).contains("external interface \"ext0\" of NAT \"edge\" does not exist on this host"))
    }
}
