import Foundation
import Testing

/// Deleting everything mooring owns is never a side effect of reading nothing: an empty directory, a fleet
/// repository that selects no document for this host, or `-f` given twice are refused with nothing changed,
/// unless `--allow-empty` says so. A set that declares other things but keeps nothing, or deletes more than
/// `--max-drop`, is a large drop: its own message and its own flag (GuardPolicy), the same in apply and run.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct TeardownGuardTests {
    private func converged() throws -> Harness {
        let harness = try Harness("tg")
        try harness.manifests.write("br.yaml", Manifests.bridge("tgbr0", addresses: ["10.47.0.1/24"]))
        #expect(try harness.apply().converged)
        return harness
    }

    @Test func anEmptyDirectoryIsRefusedUnlessAllowed() throws {
        let harness = try converged()
        defer { harness.tearDown() }
        let empty = try ManifestDirectory()
        let refused = try TestEnvironment.mooring(["apply", "-f", empty.path, "--netns", harness.ns.name])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refusing to delete everything mooring owns here: 1 link(s) (tgbr0)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("the manifests hold no documents"), "\(refused.stderr)")
        #expect(try harness.ns.links()["tgbr0"] != nil, "nothing was changed")
        let plan = try TestEnvironment.mooring(["plan", "-f", empty.path, "--netns", harness.ns.name])
        #expect(plan.stdout.contains("apply refuses it without --allow-empty"), "\(plan.stdout)")

        let allowed = try TestEnvironment.mooring(["apply", "-f", empty.path, "--netns", harness.ns.name, "--allow-empty"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(try harness.ns.links()["tgbr0"] == nil)
    }

    @Test func aFleetRepositoryThatSelectsNothingForThisHostIsRefused() throws {
        let harness = try converged()
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("tgbr0", addresses: ["10.47.0.1/24"], extra: "  hosts: [other-host]\n"))
        let text = try String(contentsOfFile: harness.manifests.path + "/br.yaml", encoding: .utf8)
        let refused = try harness.cli("apply", ["--host", "this-host"])
        #expect(refused.status == 1, "\(text)\n\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("none of the 1 document(s) read applies to host this-host"), "\(refused.stderr)")
        #expect(try harness.ns.links()["tgbr0"] != nil, "nothing was changed")
    }

    @Test func manifestsGivenTwiceAreRefusedInsteadOfTheLastWinning() throws {
        let harness = try converged()
        defer { harness.tearDown() }
        let empty = try ManifestDirectory()
        let twice = try TestEnvironment.mooring(["apply", "-f", harness.manifests.path, "-f", empty.path, "--netns", harness.ns.name])
        #expect(twice.status != 0)
        #expect(twice.stderr.contains("-f was given 2 times"), "\(twice.stderr)")
        #expect(try harness.ns.links()["tgbr0"] != nil)
    }

    /// A host switched to a new manifest tree: nothing owned is kept, but the set is not empty. Refused as what it
    /// is, with `--allow-large-drop` (not `--allow-empty`, which does not let it through).
    @Test func aSetThatKeepsNothingIsALargeDropNotAnEmptySet() throws {
        let harness = try converged()
        defer { harness.tearDown() }
        let other = try ManifestDirectory()
        try other.write("br.yaml", Manifests.bridge("tgnew0", addresses: ["10.48.0.1/24"]))
        let refused = try TestEnvironment.mooring(["apply", "-f", other.path, "--netns", harness.ns.name])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refusing a change that keeps none of the 1 object(s) mooring owns here (link/tgbr0)"),
                "\(refused.stderr)")
        #expect(refused.stderr.contains("run again with --allow-large-drop"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("--allow-empty"), "the hint fits what was refused: \(refused.stderr)")
        let plan = try TestEnvironment.mooring(["plan", "-f", other.path, "--netns", harness.ns.name])
        #expect(plan.stdout.contains("apply refuses it without --allow-large-drop"), "\(plan.stdout)")
        // A script reading stdout gets one document, its error saying why.
        let json = try TestEnvironment.mooring(["apply", "-f", other.path, "--netns", harness.ns.name, "--output", "json"])
        #expect(json.status == 1)
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((document?["error"] as? String)?.contains("--allow-large-drop") == true, "\(json.stdout)")
        #expect(document?["plan"] is NSNull, "\(json.stdout)")
        let wrongFlag = try TestEnvironment.mooring(["apply", "-f", other.path, "--netns", harness.ns.name, "--allow-empty"])
        #expect(wrongFlag.status == 1, "--allow-empty is for empty sets only: \(wrongFlag.stdout)")
        #expect(try harness.ns.links()["tgbr0"] != nil && harness.ns.links()["tgnew0"] == nil, "nothing was changed")

        let allowed = try TestEnvironment.mooring(["apply", "-f", other.path, "--netns", harness.ns.name, "--allow-large-drop"])
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        #expect(try harness.ns.links()["tgbr0"] == nil && harness.ns.links()["tgnew0"] != nil)
    }

    /// `apply --max-drop` (a timer's unattended applies): more than the share, and more than 5 objects, is refused.
    @Test func applyTakesTheSameShareLimitAsRun() throws {
        let harness = try Harness("tgm")
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("tgmbr", addresses: ["10.49.0.1/24"]))
        try harness.manifests.write("vms.yaml", (0..<8).map { Manifests.microVM("m\($0)", bridge: "tgmbr") }.joined(separator: "---\n"))
        #expect(try harness.apply().converged)
        try harness.manifests.write("vms.yaml", Manifests.microVM("m0", bridge: "tgmbr"))
        let refused = try harness.cli("apply", ["--max-drop", "10"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("it would delete 7 of the 9 objects mooring owns here"), "\(refused.stderr)")
        #expect(refused.stderr.contains("more than --max-drop 10% allows"), "\(refused.stderr)")
        #expect(try harness.ns.links()["vm-m7-eth0"] != nil, "nothing was changed")
        // Without --max-drop an apply sets no share limit (the operator runs it); with the flag it goes through.
        #expect(try harness.cli("apply", ["--max-drop", "10", "--allow-large-drop"]).status == 0)
        #expect(try harness.ns.links()["vm-m7-eth0"] == nil && harness.ns.links()["vm-m0-eth0"] != nil)
    }

    /// `mooring run` holds a set that keeps nothing back, says so once, keeps enforcing the set it had, and
    /// takes the new one once `apply --allow-large-drop` has confirmed it.
    @Test func theWatchLoopHoldsASetThatKeepsNothingBackOnce() throws {
        let harness = try converged()
        defer { harness.tearDown() }
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("tg-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let loop = try BackgroundProcess([TestEnvironment.mooringBinary, "run", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                          "--settle", "0.2"], output: log)
        defer { loop.stop() }
        func text() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(try eventually { text().contains("checked (start)") || text().contains("reconciled (start)") || text().contains("watching") })
        try harness.manifests.write("br.yaml", Manifests.bridge("tgnew0", addresses: ["10.48.0.1/24"]))
        #expect(try eventually { text().contains("holding back the manifest change: it keeps none of the 1 object(s) mooring owns here (link/tgbr0)") }, "\(text())")
        // Drift is still repaired from the set it had, and the hold is reported once, not every round.
        try harness.ns.ip("addr", "flush", "dev", "tgbr0")
        #expect(try eventually { try harness.ns.addresses("tgbr0") == ["10.47.0.1/24"] }, "\(text())")
        try harness.ns.ip("addr", "flush", "dev", "tgbr0")
        #expect(try eventually { try harness.ns.addresses("tgbr0") == ["10.47.0.1/24"] })
        #expect(text().components(separatedBy: "holding back the manifest change").count == 2, "\(text())")
        #expect(try harness.ns.links()["tgnew0"] == nil)

        let confirmed = try harness.cli("apply", ["--allow-large-drop"])
        #expect(confirmed.status == 0, "\(confirmed.stdout)\(confirmed.stderr)")
        try harness.ns.ip("addr", "flush", "dev", "tgnew0")
        #expect(try eventually { text().contains("the held-back manifest change is accepted") }, "\(text())")
        #expect(try eventually { try harness.ns.addresses("tgnew0") == ["10.48.0.1/24"] })
        #expect(loop.terminate(SIGTERM) == 0)
    }
}
