import Foundation
import Testing

/// A manifest repository is not root's: a read-only `plan` must run none of its code (core.fsmonitor, filter
/// drivers, hooks), whoever owns the `.git`; and manifests under a directory someone else can write are refused.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct HostileRepositoryTests {
    /// A repository at `top` (root-owned directory) with a bridge manifest in `top/manifests`, and a `.git`
    /// whose config runs `marker`-touching scripts on `git status`: fsmonitor and a clean filter for *.yaml.
    private func hostileRepository(owner: uid_t, marker: String) throws -> (top: String, manifests: String) {
        let top = "/tmp/mooring-hostile-\(UUID().uuidString.prefix(8))"
        let manifests = top + "/manifests"
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try (Manifests.bridge("hbr0", addresses: ["10.44.0.1/24"])).write(toFile: manifests + "/br.yaml", atomically: false, encoding: .utf8)
        chmod(manifests + "/br.yaml", 0o644)
        let script = top + "/.git-payload.sh"
        try "#!/bin/sh\ntouch \(marker)\ncat\n".write(toFile: script, atomically: false, encoding: .utf8)
        chmod(script, 0o755)
        func git(_ arguments: String...) throws { try Shell.must(["git", "-C", top] + arguments) }
        try git("init", "-q")
        try git("-c", "user.email=a@b", "-c", "user.name=attacker", "add", "manifests")
        try git("-c", "user.email=a@b", "-c", "user.name=attacker", "commit", "-qm", "manifests")
        try git("config", "core.fsmonitor", script)
        try git("config", "filter.evil.clean", script)
        try "*.yaml filter=evil\n".write(toFile: top + "/.gitattributes", atomically: false, encoding: .utf8)
        // Touch the manifest so its stat data no longer matches the index: git would now run the clean filter.
        try Shell.must("touch", "-d", "2001-01-01", manifests + "/br.yaml")
        if owner != 0 { try Shell.must("chown", "-R", "\(owner)", top + "/.git") }
        return (top, manifests)
    }

    @Test(arguments: [uid_t(0), uid_t(65534)])
    func aReadOnlyPlanRunsNoCodeFromTheRepository(owner: uid_t) throws {
        let marker = "/tmp/mooring-pwned-\(UUID().uuidString)"
        let (top, manifests) = try hostileRepository(owner: owner, marker: marker)
        defer { try? FileManager.default.removeItem(atPath: top); unlink(marker) }
        let ns = try TestNamespace("hr")
        let plan = try TestEnvironment.mooring(["plan", "-f", manifests, "--netns", ns.name])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "plan ran the repository's code as root")
        if owner == 0 {
            #expect(plan.stdout.contains("Manifests: \(manifests) at "), "root's own repository names its commit: \(plan.stdout)")
        } else {
            #expect(plan.stdout.contains("provenance unavailable"), "\(plan.stdout)")
        }
    }

    /// A manifest directory under a directory another user can write is refused (they could swap it for a
    /// symlink to an empty directory); so is one under a directory another user owns.
    @Test func manifestsUnderADirectorySomeoneElseControlsAreRefused() throws {
        let top = "/tmp/mooring-writable-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: top) }
        try FileManager.default.createDirectory(atPath: top + "/m", withIntermediateDirectories: true)
        try Manifests.bridge("wbr0").write(toFile: top + "/m/br.yaml", atomically: false, encoding: .utf8)
        chmod(top + "/m/br.yaml", 0o644)
        chmod(top + "/m", 0o755)
        chmod(top, 0o777)
        let ns = try TestNamespace("hw")
        func plan(_ path: String) throws -> Shell.Output { try TestEnvironment.mooring(["plan", "-f", path, "--netns", ns.name]) }
        let writable = try plan(top + "/m")
        #expect(writable.status == 1)
        #expect((writable.stdout + writable.stderr).contains("sits in \(top), which group or others can write (mode 777)"),
                "\(writable.stdout)\(writable.stderr)")

        chmod(top, 0o755)
        #expect(try plan(top + "/m").status == 2)
        try Shell.must("chown", "65534", top)
        let owned = try plan(top + "/m")
        #expect(owned.status == 1)
        #expect((owned.stdout + owned.stderr).contains("owned by uid 65534"), "\(owned.stdout)\(owned.stderr)")

        // Through a symlink: the path resolves into the other user's directory.
        try Shell.must("chown", "0", top)
        let link = top + "-link"
        defer { unlink(link) }
        let victim = "/tmp/mooring-victim-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: victim) }
        try FileManager.default.createDirectory(atPath: victim + "/m", withIntermediateDirectories: true)
        chmod(victim + "/m", 0o755)
        try Shell.must("chown", "65534", victim)
        symlink(victim + "/m", link)
        let resolved = try plan(link)
        #expect(resolved.status == 1)
        #expect((resolved.stdout + resolved.stderr).contains("sits in \(victim), which is owned by uid 65534"),
                "\(resolved.stdout)\(resolved.stderr)")
    }
}
