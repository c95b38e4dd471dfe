import Foundation
import Testing

/// Unit names are input from whoever can talk to the manager. One that carries mooring's prefix but unescapes to
/// a path (`mooring-vm-..-..-..-tmp-victim` -> `../../../tmp/victim`) is stopped as a stale unit, but never
/// turned into a directory to delete.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct HostileUnitNameTests {
    @Test func aUnitNamedLikeAPathNeverMakesApplyDeleteOutsideItsRunDirectory() throws {
        let harness = try Harness("hu", userBus: true)
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("hubr0", addresses: ["10.46.0.1/24"]))
        #expect(try harness.apply().converged)
        let victim = "/tmp/mooring-victim-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: victim + "/keep", withIntermediateDirectories: true)
        try "precious".write(toFile: victim + "/keep/data", atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: victim) }
        let escapedVictim = victim.dropFirst().replacingOccurrences(of: "/", with: "-")   // tmp-mooring-victim-...
        let unit = "mooring-vm-..-..-..-\(escapedVictim).service"
        try Shell.must(["systemd-run", "--user", "--quiet", "--unit", unit,
                        "-p", "NetworkNamespacePath=/run/netns/\(harness.ns.name)", "sleep", "600"])
        defer { _ = try? Shell.run(["systemctl", "--user", "stop", unit]) }

        let applied = try harness.cli("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect((applied.stdout + applied.stderr).contains("names no valid MicroVM"), "\(applied.stdout)\(applied.stderr)")
        #expect(FileManager.default.fileExists(atPath: victim + "/keep/data"), "apply deleted \(victim)")
        let state = try Shell.run(["systemctl", "--user", "is-active", unit]).stdout
        #expect(state.trimmingCharacters(in: .whitespacesAndNewlines) != "active", "the stray unit was stopped: \(state)")
    }
}
