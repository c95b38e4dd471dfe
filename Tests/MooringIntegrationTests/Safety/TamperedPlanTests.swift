import Foundation
import Testing

/// A saved plan is a review artifact: apply runs a plan made now, and only when it equals the saved one. An
/// edited plan, or one that others could have edited, changes nothing.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct TamperedPlanTests {
    private func savedPlan(_ harness: Harness) throws -> String {
        try harness.manifests.write("br.yaml", Manifests.bridge("tp0", addresses: ["10.7.0.1/24"]))
        let file = "/tmp/mooring-plan-\(harness.ns.name).json"
        #expect(try harness.cli("plan", ["--out", file]).status == 2)
        return file
    }

    @Test func anEditedOperationIsRefusedAndNothingChanges() throws {
        let harness = try Harness("tp")
        defer { harness.tearDown() }
        let file = try savedPlan(harness)
        defer { unlink(file) }
        // The attacker keeps every summary a reviewer reads and changes only what would be executed.
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let tampered = text.replacingOccurrences(of: "\"address\": \"10.7.0.1/24\"", with: "\"address\": \"10.7.0.66/24\"")
        #expect(tampered != text)
        try tampered.write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try harness.cli("apply", ["--plan", file])
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("differ from what mooring would do now"), "\(refused.stderr)")
        #expect(try harness.ns.links()["tp0"] == nil, "a refused plan changes nothing")

        // The untouched plan runs, and does exactly what a fresh plan does.
        #expect(try harness.cli("plan", ["--out", file]).status == 2)
        let applied = try harness.cli("apply", ["--plan", file])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(try harness.ns.exec("ip", "-4", "addr", "show", "dev", "tp0").stdout.contains("10.7.0.1/24"))
    }

    @Test func aPlanFileOthersCanWriteOrOwnIsRefused() throws {
        let harness = try Harness("tp")
        defer { harness.tearDown() }
        let file = try savedPlan(harness)
        defer { unlink(file) }
        chmod(file, 0o666)
        let writable = try harness.cli("apply", ["--plan", file])
        #expect(writable.status != 0)
        #expect(writable.stderr.contains("group or others can write it (mode 666)"), "\(writable.stderr)")
        chmod(file, 0o644)
        try Shell.must("chown", "65534", file)
        let owned = try harness.cli("apply", ["--plan", file])
        #expect(owned.status != 0)
        #expect(owned.stderr.contains("owned by uid 65534"), "\(owned.stderr)")
        #expect(try harness.ns.links()["tp0"] == nil)
    }
}
