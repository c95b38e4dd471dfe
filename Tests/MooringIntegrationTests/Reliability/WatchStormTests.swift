import Foundation
import Testing

/// `mooring run` under a storm of netlink events about links it does not use (a thousand veths another tool
/// makes and removes): those events cost no round, and a tap of mooring's deleted in the middle of the storm is still put
/// back, also when the storm overflows the monitor's socket (ENOBUFS: the events are lost, so the loop looks at
/// everything). Debug builds only: the test shrinks the socket's buffer (MOORING_TEST_MONITOR_BUFFER).
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct WatchStormTests {
    /// 600 pairs: 1,200 links made and 1,200 deleted, thousands of messages. Deleted as one interface group, so
    /// the kernel unregisters them in one batch instead of holding the RTNL lock for a grace period per link
    /// (which would slow every other test's namespace meanwhile).
    static let veths = 600

    /// `ip -batch` lines that add (or delete) the veth pairs no manifest names.
    private func storm(_ harness: Harness, delete: Bool = false) throws {
        let file = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("storm-\(harness.ns.name).batch").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let lines = delete ? (0..<Self.veths).map { "link set st\($0) group 4242" } + ["link del group 4242"]
            : (0..<Self.veths).map { "link add st\($0) type veth peer name st\($0)p" }
        try lines.joined(separator: "\n").appending("\n").write(toFile: file, atomically: true, encoding: .utf8)
        try Shell.must(["ip", "-n", harness.ns.name, "-batch", file])
    }

    private func run(_ harness: Harness, log: String, environment: [String: String] = [:]) throws -> BackgroundProcess {
        try BackgroundProcess([TestEnvironment.mooringBinary, "run", "-f", harness.manifests.path, "--netns", harness.ns.name,
                               "--run-directory", "/run/mooring-test-\(harness.ns.name)", "--log-level", "debug"],
                              output: log, environment: environment)
    }

    @Test(arguments: [false, true])
    func aRepairIsNeverLostInAStormOfUnrelatedLinks(_ overflow: Bool) throws {
        let harness = try Harness(overflow ? "so" : "sn")
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("stbr", addresses: ["10.73.0.1/24"]))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "stbr"))
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("storm-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let loop = try run(harness, log: log, environment: overflow ? ["MOORING_TEST_MONITOR_BUFFER": "2048"] : [:])
        defer { loop.stop() }
        #expect(try eventually { try harness.ns.links()["vm-a-eth0"]?.master == "stbr" }, "the loop converges at start")
        func text() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(try eventually { text().contains("checked (start)") || text().contains("reconciled (start)") })

        // The storm, with one of mooring's taps deleted in the middle of it.
        try storm(harness)
        try harness.ns.ip("link", "del", "vm-a-eth0")
        try storm(harness, delete: true)
        #expect(try eventually(timeout: 30) { try harness.ns.links()["vm-a-eth0"]?.master == "stbr" }, "the tap is back: \(text().suffix(2000))")
        if overflow {
            #expect(text().contains("netlink overflow"), "the storm overflowed the monitor, and the loop looked at everything")
        } else {
            // Thousands of link events about veths cost no round: the rounds are the start, the tap's repair, and
            // a few for the events about mooring's own links (their IPv6 link-local addresses settling).
            #expect(try eventually { text().contains("ignored") }, "\(text().suffix(2000))")
            let ignored = text().split(separator: "\n").filter { $0.contains("ignored") }.count
            let rounds = text().split(separator: "\n").filter { $0.contains("reconciled (") || $0.contains("checked (") }
            #expect(ignored >= 50 && rounds.count <= 10, "\(ignored) batches ignored; the storm cost rounds: \(rounds)")
        }
        #expect(loop.terminate(SIGTERM) == 0)
    }
}
