import Foundation
import Testing

/// Deleting everything mooring owns is never a side effect of reading nothing: an empty directory, a fleet
/// repository that selects no document for this host, or `-f` given twice are refused with nothing changed,
/// unless `--allow-empty` says so.
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
}
