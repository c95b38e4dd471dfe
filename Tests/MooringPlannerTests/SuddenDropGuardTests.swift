import MooringModel
import MooringPlan
@testable import MooringPlanner
import MooringReports
import Testing

struct SuddenDropGuardTests {
    /// `count` taps mooring owns, of which the manifests keep `kept`.
    private func plan(owned count: Int, kept: Int) -> (Plan, ObservedState) {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0")
        for index in 0..<count { links.add("vm-v\(index)-eth0", Fixture.tap, owner: "MicroVM/v\(index)/eth0", master: "br0") }
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], microVMs: (0..<kept).map { Fixture.tapVM("v\($0)", bridge: "br0") })
        return (Planner(desired: desired, observed: links.state).plan(), links.state)
    }

    @Test func aLargeShareIsSuspiciousASmallOneOrAFewObjectsAreNot() throws {
        let limit = SuddenDropGuard.Limit(percent: 10, floor: 5)
        let (half, observed) = plan(owned: 40, kept: 20)
        let drop = try #require(SuddenDropGuard.suspiciousDrop(half, observed: observed, limit: limit))
        #expect(drop.removed == 20 && drop.owned == 41)
        #expect(drop.description.hasPrefix("it would delete 20 of the 41 objects mooring owns here (link/vm-v20-eth0"))

        let (few, fewObserved) = plan(owned: 40, kept: 36)  // 4 objects: under the floor
        #expect(SuddenDropGuard.suspiciousDrop(few, observed: fewObserved, limit: limit) == nil)
        let (small, smallObserved) = plan(owned: 100, kept: 92)  // 8 of 101: under 10 %
        #expect(SuddenDropGuard.suspiciousDrop(small, observed: smallObserved, limit: limit) == nil)
        let (most, mostObserved) = plan(owned: 100, kept: 80)
        #expect(SuddenDropGuard.suspiciousDrop(most, observed: mostObserved, limit: limit)?.removed == 20)
    }
}
