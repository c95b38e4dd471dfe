import Foundation
import MooringDrivers
import MooringModel
import Testing

/// `apply --try --probe`: what the targets look like, and that the checks answer for real (in a namespace of
/// their own, where only loopback is up).
@Suite struct ReachabilityProbeTests {
    @Test func targetsParse() {
        #expect(ReachabilityProbe(argument: "tcp:192.0.2.1:22") == .tcp(host: IPAddress("192.0.2.1")!, port: 22))
        #expect(ReachabilityProbe(argument: "tcp:[2001:db8::1]:443") == .tcp(host: IPAddress("2001:db8::1")!, port: 443))
        #expect(ReachabilityProbe(argument: "ping:2001:db8::1") == .ping(host: IPAddress("2001:db8::1")!))
        #expect(ReachabilityProbe(argument: "tcp:[2001:db8::1]:443")?.description == "tcp:[2001:db8::1]:443")
        #expect(ReachabilityProbe(argument: "neighbour:192.0.2.1") == .neighbour(host: IPAddress("192.0.2.1")!))
        #expect(ReachabilityProbe(argument: "neighbor:2001:db8::1")?.description == "neighbour:2001:db8::1")
        for bad in ["tcp:192.0.2.1", "tcp:192.0.2.1:0", "tcp:host.example:22", "ping:", "icmp:192.0.2.1", "192.0.2.1", "neighbour:",
                    "neighbour:gateway"] {
            #expect(ReachabilityProbe(argument: bad) == nil, "\(bad)")
        }
    }

    @Test func probesAnswerForReal() throws {
        let namespace = try TestNamespace("probe")
        try namespace.ip("addr", "add", "192.0.2.7/32", "dev", "lo")
        let thread = try NamespaceThread(netns: namespace.name)
        func check(_ target: String) throws -> String? {
            let probe = ReachabilityProbe(argument: target)!
            return try thread.run { probe.check(timeout: 0.5) }
        }
        #expect(try check("ping:127.0.0.1") == nil)
        #expect(try check("ping:::1") == nil)
        // A refusal is an answer: the path works.
        #expect(try check("tcp:192.0.2.7:9") == nil)
        // Nowhere to go: no route at all.
        let unreachable = try check("ping:198.51.100.1")
        #expect(unreachable?.contains("198.51.100.1") == true, "\(unreachable ?? "answered")")
        #expect(try check("tcp:198.51.100.1:22") != nil)
    }

    /// The neighbour probe asks the link: a gateway that went away fails it in the next round, though the host
    /// still holds a REACHABLE entry for it (that entry is what kept a ping answering for 13-22 s after a
    /// broken uplink move).
    @Test func theNeighbourProbeAsksTheLinkNotTheTable() throws {
        let host = try TestNamespace("nprobe")
        let gateway = try TestNamespace("ngw")
        try host.ip("link", "add", "up0", "type", "veth", "peer", "name", "gw0", "netns", gateway.name)
        try host.ip("addr", "add", "192.0.2.2/24", "dev", "up0")
        try host.ip("addr", "add", "2001:db8:7::2/64", "dev", "up0", "nodad")
        try host.ip("link", "set", "up0", "up")
        try gateway.ip("addr", "add", "192.0.2.1/24", "dev", "gw0")
        try gateway.ip("addr", "add", "2001:db8:7::1/64", "dev", "gw0", "nodad")
        try gateway.ip("link", "set", "gw0", "up")
        let thread = try NamespaceThread(netns: host.name)
        func check(_ target: String) throws -> String? {
            let probe = ReachabilityProbe(argument: target)!
            return try thread.run { probe.check(timeout: 1) }
        }
        // The link-local addresses come up with the link; the probe's solicitation leaves from one.
        #expect(try eventually { !(try host.ip("-6", "addr", "show", "dev", "up0", "scope", "link", "-tentative")).isEmpty })
        #expect(try eventually { !(try gateway.ip("-6", "addr", "show", "dev", "gw0", "scope", "link", "-tentative")).isEmpty })
        #expect(try check("neighbour:192.0.2.1") == nil)
        #expect(try check("neighbour:2001:db8:7::1") == nil)
        let nobody = try check("neighbour:192.0.2.99")
        #expect(nobody?.contains("no ARP reply from 192.0.2.99 on up0") == true, "\(nobody ?? "answered")")
        let nobody6 = try check("neighbour:2001:db8:7::99")
        #expect(nobody6?.contains("no neighbour advertisement from 2001:db8:7::99 on up0") == true, "\(nobody6 ?? "answered")")
        #expect(try check("neighbour:198.51.100.1")?.contains("no interface") == true)

        // The gateway goes away; the host's table still says REACHABLE.
        let gatewayMAC = try gateway.ip("-br", "link", "show", "gw0").split(separator: " ", omittingEmptySubsequences: true)[2]
        try host.ip("neigh", "replace", "192.0.2.1", "lladdr", String(gatewayMAC), "dev", "up0", "nud", "reachable")
        try gateway.ip("addr", "del", "192.0.2.1/24", "dev", "gw0")
        try gateway.ip("addr", "del", "2001:db8:7::1/64", "dev", "gw0")
        #expect(try host.ip("neigh", "show", "192.0.2.1", "dev", "up0").contains("REACHABLE"))
        #expect(try check("neighbour:192.0.2.1") != nil)
        #expect(try check("neighbour:2001:db8:7::1") != nil)
    }
}
