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
        for bad in ["tcp:192.0.2.1", "tcp:192.0.2.1:0", "tcp:host.example:22", "ping:", "icmp:192.0.2.1", "192.0.2.1"] {
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
}
