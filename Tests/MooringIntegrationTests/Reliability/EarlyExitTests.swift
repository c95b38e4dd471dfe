import Foundation
import Testing

/// Invalid manifests on a namespace where mooring's tables exist: `plan` and `apply` start observing the host
/// (netlink and nftables, on threads of their own) while they parse the manifests, and an early exit used to
/// run `exit()` while libnftables was still listing into its output stream: about one run in 150 ended in
/// SIGSEGV or SIGABRT instead of exit 1. Every early exit now waits for the observation first.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct EarlyExitTests {
    @Test func invalidInputEndsWithExitOneEveryTime() throws {
        let harness = try Harness("ee")
        defer { harness.tearDown() }
        try harness.ns.addHostInterface("up0")
        try harness.manifests.write("br.yaml", Manifests.bridge("eebr", addresses: ["10.74.0.1/24", "\"fd74::1/64\""]))
        try harness.manifests.write("vm.yaml", Manifests.microVM("a", bridge: "eebr", extraInterfaceFields: ", antiSpoofing: true"))
        try harness.manifests.write("nat.yaml", Manifests.header + """
            kind: NAT
            metadata: {name: edge}
            spec: {externalInterface: up0, internalInterfaces: [eebr], forwardPorts: [{proto: tcp, sourcePort: 8080, destination: "10.74.0.10:80"}]}
            """)
        #expect(try harness.apply().converged, "mooring's tables exist, so there is a listing to be in the middle of")
        try harness.manifests.write("bad.yaml", Manifests.bridge("eebad", mtu: nil, extra: "  mtu: large\n"))
        let runs = 150 * ReliabilityScale.factor
        var statuses: [Int32: Int] = [:]
        for index in 0..<(2 * runs) {
            let run = try harness.cli(index % 2 == 0 ? "plan" : "apply")
            statuses[run.status, default: 0] += 1
        }
        #expect(statuses == [1: 2 * runs], "exit statuses over \(2 * runs) runs: \(statuses)")
    }
}
