import Foundation
import MooringModel
import MooringPlanner
import Testing

/// Mutating runs at once never interleave: each holds the lock from observing to verifying.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct ConcurrencyTests {
    /// `count` applies, each of a different manifest set, started together against one namespace. Each must
    /// converge to its own set (exit 0): interleaved with another, its verify step would find the other's
    /// changes and exit 3. The host ends up as exactly one of the sets.
    @Test(arguments: [2, 8])
    func concurrentAppliesOfDifferentSetsEachConvergeAlone(_ count: Int) throws {
        let ns = try TestNamespace("mcc")
        let runDirectory = "/run/mooring-test-\(ns.name)"
        defer { try? FileManager.default.removeItem(atPath: runDirectory) }
        var sets: [ManifestDirectory] = []
        for index in 0..<count {
            let directory = try ManifestDirectory()
            var text = Manifests.bridge("cc", addresses: ["10.\(50 + index).0.1/24"], mtu: 1400 + index) + "---\n"
            for vm in 0..<(10 + index * 3) { text += Manifests.microVM("s\(index)v\(vm)", bridge: "cc") + "---\n" }
            try directory.write("set.yaml", text)
            sets.append(directory)
        }
        let logs = (0..<count).map { "\(runDirectory)-\($0).log" }
        defer { for log in logs { try? FileManager.default.removeItem(atPath: log) } }
        let runs = try (0..<count).map { index in
            try BackgroundProcess([TestEnvironment.mooringBinary, "apply", "-f", sets[index].path, "--netns", ns.name,
                                   "--run-directory", runDirectory, "--lock-timeout", "120"], output: logs[index])
        }
        let statuses = runs.map { $0.wait() }
        for (index, status) in statuses.enumerated() {
            #expect(status == 0, "apply \(index) exited \(status): \((try? String(contentsOfFile: logs[index], encoding: .utf8)) ?? "")")
        }
        let inSync = try sets.filter { set in
            try TestEnvironment.mooring(["plan", "-f", set.path, "--netns", ns.name]).status == 0
        }
        #expect(inSync.count == 1, "the host matches exactly one of the \(count) sets")
    }

    /// `plan` takes no lock; made while an apply runs, it still reports a coherent difference.
    @Test func planWhileApplyRunsGivesAConsistentReport() throws {
        let harness = try Harness("mcp")
        var text = Manifests.bridge("pp", addresses: ["10.60.0.1/24"]) + "---\n"
        for vm in 0..<1000 { text += Manifests.microVM("p\(vm)", bridge: "pp") + "---\n" }
        try harness.manifests.write("set.yaml", text)
        let runDirectory = "/run/mooring-test-\(harness.ns.name)"
        defer { try? FileManager.default.removeItem(atPath: runDirectory) }
        let apply = try BackgroundProcess([TestEnvironment.mooringBinary, "apply", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                           "--run-directory", runDirectory])
        var reports = 0
        var partial = 0
        while reports < 40 {
            let output = try harness.cli("plan", ["--output", "json", "--run-directory", runDirectory])
            #expect(output.status == 0 || output.status == 2, "plan failed while apply ran: \(output.stderr)")
            let report = try JSONDecoder().decode(PlanReport.self, from: Data(output.stdout.utf8))
            // Mid-apply the host is on its way to the manifests: the plan may create or update, never undo.
            #expect(report.changes.allSatisfy { $0.action == .create || $0.action == .update },
                    "\(report.changes.filter { $0.action != .create && $0.action != .update }.map(\.summary).prefix(3))")
            #expect(report.conflicts.isEmpty)
            if !report.inSync && report.changes.count < 1001 {
                partial += 1
                #expect(report.warnings.contains { $0.contains("is applying right now") }, "a part-way report says so")
            }
            reports += 1
            if report.inSync { break }
        }
        #expect(apply.wait() == 0)
        #expect(partial >= 1, "no plan caught the apply part-way; the test checked nothing")
        #expect(try harness.plan().isInSync)
        print("concurrency: \(reports) plans made during an apply of 1000 taps, \(partial) of them saw it part-way")
    }
}
