import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import Testing

/// mooring's `network-config`, rendered by Debian's own cloud-init (`cloud-init devel net-convert` in a cached
/// Debian tree, scripts/cloud-init-tree) for the renderers Debian guests use: systemd-networkd and ifupdown
/// (eni). The test bed's busybox guest parses mooring's own output, so it could not catch the IPv6 default route
/// that bookworm's cloud-init 22.4 rendered as `::/64` from `routes: [{to: "::/0"}]`; this reads what the
/// real client makes of it.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct CloudInitRenderingTests {
    static let suites = ["bookworm", "trixie"]

    private func rendered(_ suite: String, _ renderer: String) throws -> [String: String] {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ci-render-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let seed = try #require(CloudInitSeed.disk(SeedDiskTests.vm(), runDirectory: work.path))
        let config = try #require(seed.files.first { $0.path == "network-config" }).contents
        try config.write(to: work.appendingPathComponent("network-config"), atomically: true, encoding: .utf8)
        let out = work.appendingPathComponent("out").path
        let script = TestEnvironment.repository.appendingPathComponent("scripts/cloud-init-tree").path
        let result = try Shell.run([script, "render", suite, renderer, work.appendingPathComponent("network-config").path, out])
        #expect(result.status == 0, "cloud-init net-convert (\(suite), \(renderer)): \(result.stderr)")
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: out)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[path] = try String(contentsOfFile: out + "/" + path, encoding: .utf8)
            }
        }
        return files
    }

    /// systemd-networkd: both addresses, both default routes (a route with the gateway and no destination, or
    /// the whole address space), the DNS server and the search domain, on the interface matched by MAC.
    @Test(arguments: suites)
    func networkdGetsBothDefaultRoutes(_ suite: String) throws {
        let files = try rendered(suite, "networkd")
        let network = try #require(files.first { $0.key.hasSuffix(".network") }?.value, "no .network file in \(files.keys.sorted())")
        #expect(network.contains("MACAddress=02:00:00:00:00:01"), "\(network)")
        #expect(network.contains("Address=10.0.0.10/24") && network.contains("Address=fd12::10/64"), "\(network)")
        #expect(network.contains("DNS=10.0.0.1") && network.contains("Domains=lan"), "\(network)")
        for gateway in ["10.0.0.1", "fd12::1"] {
            let routes = network.components(separatedBy: "[Route]").dropFirst()
            let route = routes.first { $0.contains("Gateway=\(gateway)") }
            #expect(route != nil, "no route via \(gateway): \(network)")
            let destination = route?.split(separator: "\n").first { $0.hasPrefix("Destination=") }
            #expect(destination == nil || ["Destination=0.0.0.0/0", "Destination=::/0"].contains(String(destination!)),
                    "the route via \(gateway) is not a default route: \(network)")
        }
        #expect(!network.contains("::/64"), "\(network)")
    }

    /// ifupdown (/etc/network/interfaces): a default route for each family.
    @Test(arguments: suites)
    func ifupdownGetsBothDefaultRoutes(_ suite: String) throws {
        let files = try rendered(suite, "eni")
        let interfaces = try #require(files.first { $0.key.hasSuffix("interfaces") || $0.key.contains("interfaces.d") }?.value,
                                      "no interfaces file in \(files.keys.sorted())")
        #expect(interfaces.contains("address 10.0.0.10/24") && interfaces.contains("address fd12::10/64"), "\(interfaces)")
        for gateway in ["10.0.0.1", "fd12::1"] {
            // `gateway X` in the stanza, or a `route add ... default gw X` hook: both make a default route.
            #expect(interfaces.contains("gateway \(gateway)\n") || interfaces.contains("default gw \(gateway) "), "\(interfaces)")
        }
        #expect(!interfaces.contains("::/64"), "\(interfaces)")
    }
}
