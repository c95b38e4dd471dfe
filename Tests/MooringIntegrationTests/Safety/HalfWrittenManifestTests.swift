import Foundation
import Testing

/// `mooring run` must not act on a manifest caught half-written. Forty MicroVMs (one tap each) live in one
/// file; the attacks are the ones that deleted half of them: a writer that has written half and not closed
/// yet (while an unrelated file is touched), and a writer in two steps (`> f`, later `>> f`) whose first half
/// is a valid manifest set on its own.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct HalfWrittenManifestTests {
    static let count = 40

    private static func vms(_ range: Range<Int>) -> String {
        range.map { Manifests.microVM("h\($0)", bridge: "hbr") }.joined(separator: "---\n")
    }

    private struct Watched {
        let harness: Harness
        let loop: BackgroundProcess
        let log: String

        func logged(_ text: String) -> Bool { (try? String(contentsOfFile: log, encoding: .utf8))?.contains(text) == true }
        func taps() throws -> Int { try harness.ns.links().keys.filter { $0.hasPrefix("vm-h") }.count }

        /// Makes the loop run a round (a tap deleted by hand) and waits until it has repaired it: every
        /// manifest event before this point has been seen by then.
        func roundTrip() throws -> Bool {
            try harness.ns.ip("link", "del", "vm-h0-eth0")
            return try eventually { try harness.ns.links()["vm-h0-eth0"] != nil }
        }
    }

    private func start() throws -> Watched {
        let harness = try Harness("hw")
        try harness.manifests.write("bridge.yaml", Manifests.bridge("hbr", addresses: ["10.44.0.1/24"]))
        try harness.manifests.write("vms.yaml", Self.vms(0..<Self.count))
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("watch-\(harness.ns.name).log").path
        let loop = try BackgroundProcess([TestEnvironment.mooringBinary, "run", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                          "--run-directory", "/run/mooring-test-\(harness.ns.name)", "--settle", "0.3"], output: log)
        let watched = Watched(harness: harness, loop: loop, log: log)
        // 60 s at most: beside other suites' TCG guests on 2 cores, a first round of 40 taps has taken over 10 s.
        #expect(try eventually(timeout: 60) { try watched.taps() == Self.count }, "the loop converges at start")
        return watched
    }

    private func finish(_ watched: Watched) {
        watched.loop.stop()
        try? FileManager.default.removeItem(atPath: watched.log)
        watched.harness.tearDown()
    }

    @Test func aFileStillBeingWrittenIsNotRead() throws {
        let watched = try start()
        defer { finish(watched) }
        let path = watched.harness.manifests.path + "/vms.yaml"
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(Self.vms(0..<(Self.count / 2)).utf8))
        #expect(eventually { watched.logged("is closed before reading them") }, "the loop sees the file is being written")
        // An unrelated manifest event meanwhile must not make the loop read the half-written file.
        try watched.harness.manifests.write("other.yaml", Manifests.bridge("hbr2"))
        #expect(try watched.roundTrip(), "the loop keeps repairing from the manifests it had")
        // Past the settle time (0.3 s): a loop that only waited for quiet would read the half file by now. This
        // wait gives a wrong loop time to misbehave; it cannot make a right one fail.
        let quiet = Date().addingTimeInterval(1)
        #expect(eventually { Date() >= quiet })
        #expect(try watched.roundTrip())
        #expect(try watched.harness.ns.links()["hbr2"] == nil, "a manifest was read while another was half-written")
        #expect(try watched.taps() == Self.count, "half of the MicroVMs were deleted from a half-written file")

        try handle.write(contentsOf: Data(("---\n" + Self.vms((Self.count / 2)..<Self.count)).utf8))
        try handle.close()
        #expect(try eventually { try watched.harness.ns.links()["hbr2"] != nil }, "once closed, the manifests are read")
        #expect(try watched.taps() == Self.count)
    }

    @Test func aLargeDropIsHeldBackUntilConfirmed() throws {
        let watched = try start()
        defer { finish(watched) }
        // `cat half1 > f`, and the second half comes much later: the first half alone is a valid set.
        try watched.harness.manifests.write("vms.yaml", Self.vms(0..<(Self.count / 2)))
        #expect(eventually { watched.logged("holding back the manifest change: it would delete 20 of the 41 objects") },
                "the drop is reported")
        #expect(try watched.roundTrip())
        #expect(try watched.taps() == Self.count, "the previous manifests stay in force")

        // `cat half2 >> f`: the whole set again, nothing was lost.
        try watched.harness.manifests.write("vms.yaml", Self.vms(0..<Self.count))
        #expect(try watched.roundTrip())
        #expect(try watched.taps() == Self.count)

        // An intended removal, confirmed with `mooring apply`: the loop accepts it and does not undo it.
        try watched.harness.manifests.write("vms.yaml", Self.vms(0..<(Self.count / 2)))
        #expect(eventually { watched.logged("it would delete 20 of the 41 objects") })
        let apply = try watched.harness.cli("apply", ["--run-directory", "/run/mooring-test-\(watched.harness.ns.name)"])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(eventually { watched.logged("the held-back manifest change is accepted") })
        #expect(try watched.roundTrip())
        #expect(try watched.taps() == Self.count / 2)
    }
}
