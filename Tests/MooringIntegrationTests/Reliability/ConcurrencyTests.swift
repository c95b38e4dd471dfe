import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
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

    /// `plan` takes no lock; made while an apply is part-way (paused by a test hook after 1200 of 2504 changes),
    /// it reports a coherent difference and says an apply is in progress.
    @Test func planWhileApplyRunsGivesAConsistentReport() throws {
        let harness = try Harness("mcp")
        // A bridge takes at most 1023 ports: 2500 taps over three bridges.
        var text = (0..<3).map { Manifests.bridge("pp\($0)", addresses: ["10.6\($0).0.1/24"]) + "---\n" }.joined()
        for vm in 0..<2500 { text += Manifests.microVM("p\(vm)", bridge: "pp\(vm % 3)") + "---\n" }
        try harness.manifests.write("set.yaml", text)
        let runDirectory = "/run/mooring-test-\(harness.ns.name)"
        defer { try? FileManager.default.removeItem(atPath: runDirectory) }
        let apply = try BackgroundProcess([TestEnvironment.mooringBinary, "apply", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                           "--run-directory", runDirectory], environment: ["MOORING_TEST_PAUSE_AFTER": "1200"])
        // Wait for the pause: over a thousand links, and no more appearing.
        var last = 0
        #expect(try eventually {
            let count = try harness.ns.links().count
            defer { last = count }
            return count > 1000 && count == last
        }, "the apply got part-way")
        let output = try harness.cli("plan", ["--output", "json", "--run-directory", runDirectory])
        #expect(output.status == 2, "plan failed while apply ran: \(output.stderr)")
        let report = try PlanDocument(output.stdout)
        // Part-way the host is on its way to the manifests: the plan may create or update, never undo.
        #expect(report.changes.allSatisfy { $0.action == "create" || $0.action == "update" },
                "\(report.changes.filter { $0.action != "create" && $0.action != "update" }.map(\.summary).prefix(3))")
        #expect(report.conflicts.isEmpty)
        #expect(report.changes.count > 100 && report.changes.count < 2506, "\(report.changes.count) changes: \(report.changes.prefix(3).map(\.summary))")
        #expect(report.warnings.contains { $0.contains("process \(apply.processID) is applying right now") }, "\(report.warnings)")
        #expect(apply.wait() == 0)
        #expect(try harness.plan().isInSync)
        print("concurrency: a plan made during a paused 2500-tap apply listed \(report.changes.count) remaining changes and named the applying process")
    }
}
