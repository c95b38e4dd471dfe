import Foundation
import Testing
@testable import MooringModel

/// Inputs meant to crash or hang a parser: each must give a clear error, quickly.
struct HostileInputTests {
    private let header = "apiVersion: mooring.dev/v1alpha1\n"

    @Test func aliasBombIsRejectedQuickly() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...12 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let bomb = header + "kind: Bridge\nmetadata: {name: br0}\nspec:\n  ports: *a12\n" + text.replacingOccurrences(of: "\n", with: "\n  ").dropLast(2)
        let file = header + text + "kind: Bridge\nmetadata: {name: br0}\nspec:\n  ports: *a12\n"
        for candidate in [file, String(bomb)] {
            let result = ManifestSet.parse(files: [ManifestFile(path: "bomb.yaml", text: candidate)])
            #expect(result.desired == nil)
            #expect(!result.errors.isEmpty)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = header + "kind: Bridge\nmetadata: {name: br0}\nspec: {ports: " + String(repeating: "[", count: 5000) + "]}\n"
        let result = ManifestSet.parse(files: [ManifestFile(path: "deep.yaml", text: text)])
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.description.contains("deep.yaml:") == true)
    }

    @Test func hugeListHitsTheNodeBudget() {
        let text = header + "kind: Bridge\nmetadata: {name: br0}\nspec:\n  ports: [" + Array(repeating: "e", count: 150_000).joined(separator: ",") + "]\n"
        let result = ManifestSet.parse(files: [ManifestFile(path: "big.yaml", text: text)])
        #expect(result.errors.contains { $0.message.contains("too many YAML nodes") })
    }

    @Test func directoryProblemsAreReportedWithPaths() throws {
        let dir = try TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("sub/.git"), withIntermediateDirectories: true)
        try (header + "kind: Bridge\nmetadata: {name: br0}\nspec: {}\n").write(to: dir.appendingPathComponent("sub/ok.yaml"), atomically: true, encoding: .utf8)
        try "not: [a manifest".write(to: dir.appendingPathComponent("sub/.git/ignored.yaml"), atomically: true, encoding: .utf8)
        try "notes".write(to: dir.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        // Non-UTF-8 bytes on line 3.
        try Data((header + "kind: Bridge\nmetadata: {name: \"b").utf8 + [0xff, 0xfe] + Array("\"}\n".utf8))
            .write(to: dir.appendingPathComponent("latin1.yaml"))
        // A symlink loop and a dangling link.
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("sub/loop").path, withDestinationPath: "..")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("gone.yaml").path, withDestinationPath: "/nonexistent/x.yaml")
        // A file over the size limit.
        var limits = ManifestReadLimits()
        limits.maxFileBytes = 1000
        try String(repeating: "# padding\n", count: 200).write(to: dir.appendingPathComponent("huge.yaml"), atomically: true, encoding: .utf8)

        let result = ManifestSet.load(directory: dir.path, limits: limits)
        let messages = result.errors.map(\.description)
        #expect(result.desired == nil)
        #expect(messages.contains { $0.hasPrefix("\(dir.path)/latin1.yaml:3:") && $0.contains("not valid UTF-8") })
        #expect(messages.contains { $0.hasPrefix("error: \(dir.path)/sub/loop: symlink loop") })
        #expect(messages.contains { $0.hasPrefix("error: \(dir.path)/gone.yaml: dangling symlink") })
        #expect(messages.contains { $0.hasPrefix("error: \(dir.path)/huge.yaml: is 2000 bytes") })
        #expect(!messages.contains { $0.contains(".git") })
        #expect(result.errors.count == 4, "\(messages)")
    }

    @Test func writableManifestsAreRefusedWhenStrict() throws {
        let dir = try TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.yaml")
        try (header + "kind: Bridge\nmetadata: {name: br0}\nspec: {}\n").write(to: file, atomically: true, encoding: .utf8)
        chmod(dir.path, 0o755)
        chmod(file.path, 0o666)
        var limits = ManifestReadLimits()
        limits.requireSafePermissions = true
        let strict = ManifestSet.load(directory: dir.path, limits: limits)
        #expect(strict.desired == nil)
        #expect(strict.errors.first?.message.contains("writable by group or others (mode 666)") == true)
        chmod(file.path, 0o644)
        #expect(ManifestSet.load(directory: dir.path, limits: limits).desired != nil)
    }

    @Test func missingDirectoryIsAnError() {
        let result = ManifestSet.load(directory: "/nonexistent/manifests")
        #expect(result.errors.first?.description == "error: /nonexistent/manifests: cannot read the manifest directory: No such file or directory")
    }
}
