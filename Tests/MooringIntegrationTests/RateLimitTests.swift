import Foundation
import Testing

/// Bandwidth limits at a guest's bridge port (`rateLimit`), measured with real transfers to and from a booted
/// guest: unlimited first (the guest must be able to go faster, or the check could not fail), then limited to
/// 4 Mbit/s each way, which a sustained transfer must get within 10 %.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct RateLimitTests {
    /// 4 Mbit/s in bytes per second: well below what an emulated guest moves even with other guests booting
    /// beside it (1.5 MB/s upload at the slowest seen), so the unlimited rate always exceeds it.
    static let limit = 500_000.0

    private func vm(limited: Bool) -> String {
        Manifests.bootableVM("lim", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: vmbr, address: 10.50.0.10/24"
            + (limited ? ", rateLimit: {toGuest: 4mbit, fromGuest: 4mbit}}" : "}")])
    }

    /// Bytes per second of a download from the guest and of an upload to it, as curl measured them. With
    /// `sustained`, each is the second of two back-to-back transfers: nftables' byte limits start with a bucket of
    /// one second's worth plus the burst, which the first transfer drains.
    private func rates(_ harness: Harness, upload file: String, sustained: Bool = false) throws -> (download: Double, upload: Double) {
        func curl(_ arguments: [String]) throws -> Double {
            let out = try harness.ns.exec(["curl", "-s", "-o", "/dev/null", "-m", "60"] + arguments)
            return Double(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        let download = ["-w", "%{speed_download}", "http://10.50.0.10/big"]
        let upload = ["-w", "%{speed_upload}", "--data-binary", "@\(file)", "http://10.50.0.10/cgi-bin/sink"]
        if sustained { _ = try curl(download) }
        let down = try curl(download)
        if sustained { _ = try curl(upload) }
        let up = try curl(upload)
        return (down, up)
    }

    @Test func aRateLimitHoldsWithinTenPercentBothWays() throws {
        let harness = try Harness("rl", userBus: true)
        defer { harness.tearDown() }
        let file = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("upload-\(harness.ns.name)").path
        try Data(count: 2 << 20).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vmbr", addresses: ["10.50.0.1/24"]))
        try harness.manifests.write("vm.yaml", vm(limited: false))
        #expect(try harness.apply().converged)
        #expect(eventually(timeout: 90) { (try? harness.ns.exec("curl", "-s", "-m", "2", "http://10.50.0.10/").stdout)?.contains("hello from lim") == true })

        let free = try rates(harness, upload: file)
        print("rate limit: unlimited download \(Int(free.download)) B/s, upload \(Int(free.upload)) B/s")
        #expect(free.download > 1.5 * Self.limit && free.upload > 1.5 * Self.limit,
                "the guest must be able to exceed the limit for this check to mean anything: \(free)")

        // Limited: the filter table carries the policers; the VM keeps running (no restart).
        try harness.manifests.write("vm.yaml", vm(limited: true))
        let plan = try harness.plan()
        #expect(plan.summaries == ["replace table bridge mooring: anti-spoofing for 1 guest interface, rate limits on 1"], "\(plan.summaries)")
        #expect(try harness.apply().converged)
        let limited = try rates(harness, upload: file, sustained: true)
        print("rate limit: limited to \(Int(Self.limit)) B/s: download \(Int(limited.download)) B/s, upload \(Int(limited.upload)) B/s")
        #expect(abs(limited.download - Self.limit) <= 0.1 * Self.limit, "download \(limited.download) B/s")
        #expect(abs(limited.upload - Self.limit) <= 0.1 * Self.limit, "upload \(limited.upload) B/s")
    }
}
