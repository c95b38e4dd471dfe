import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// DNS of mooring's bridges in systemd-resolved: declared ones are set, undeclared ones forgotten, and nothing
/// happens (but the plan says so) when resolved cannot be asked.
@Suite struct NameserverPlannerTests {
    let dns = Nameservers(addresses: [IPAddress("192.0.2.53")!], search: ["lan"])

    func plan(declared: Nameservers?, have: Nameservers?, owner: String? = "Bridge/br0", problem: String? = nil) -> Plan {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: owner)
        var observed = links.state
        observed.nameservers["br0"] = have
        observed.resolverProblem = problem
        var bridge = Fixture.bridge("br0")
        bridge.nameservers = declared
        return Planner(desired: DesiredState(bridges: [bridge]), observed: observed).plan()
    }

    @Test func declaredDNSIsSetAndKept() {
        let set = plan(declared: dns, have: nil)
        #expect(set.summaries == ["bridge br0: set DNS 192.0.2.53 search lan"])
        #expect(set.changes.first?.phase == .linkNameservers)
        #expect(plan(declared: dns, have: dns).isInSync)
        let changed = plan(declared: dns, have: Nameservers(addresses: [IPAddress("192.0.2.1")!]))
        #expect(changed.summaries == ["bridge br0: set DNS 192.0.2.53 search lan (was 192.0.2.1)"])
    }

    @Test func dnsNoLongerDeclaredIsForgotten() {
        let cleared = plan(declared: nil, have: dns)
        #expect(cleared.summaries == ["bridge br0: set DNS none (was 192.0.2.53 search lan)"])
        if case let .setNameservers(_, value) = cleared.changes.first?.operation { #expect(value.isEmpty) } else { Issue.record("no setNameservers") }
    }

    @Test func withoutResolvedThePlanSaysSoAndChangesNothing() {
        let unavailable = plan(declared: dns, have: nil, problem: "systemd-resolved is not running")
        #expect(unavailable.changes.isEmpty)
        #expect(!unavailable.isInSync)
        #expect(unavailable.unchecked.first?.contains("DNS of br0 (spec.nameservers): systemd-resolved is not running") == true, "\(unavailable.unchecked)")
        #expect(unavailable.unchecked.first?.contains("never edits /etc/resolv.conf") == true)
    }
}
