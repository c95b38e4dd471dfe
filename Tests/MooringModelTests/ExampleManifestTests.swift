import Testing
@testable import MooringModel

struct ExampleManifestTests {
    @Test func examplesValidateWithoutErrors() throws {
        let result = ManifestSet.load(directory: TestPaths.examples.path)
        #expect(result.errors.isEmpty, "\(result.errors)")
        let desired = try #require(result.desired)
        #expect(desired.bridges.map(\.name) == ["microvm"])
        #expect(desired.nats.first?.enableIPv6 == true)
        #expect(desired.microVMs.map(\.name) == ["web-1", "web-2"])
        #expect(desired.host.accelerator == .tcg)
    }

    @Test func defaultsAreResolvedFromTheHostManifest() throws {
        let desired = try #require(ManifestSet.load(directory: TestPaths.examples.path).desired)
        let web1 = try #require(desired.microVMs.first)
        let eth0 = try #require(web1.interfaces.first)
        #expect(eth0.bridge == "microvm")
        #expect(eth0.hostDeviceName == "vm-web-1-eth0")
        #expect(eth0.gateways == [IPAddress("10.0.0.1")!, IPAddress("fd12:3456:789a::1")!])
        #expect(!eth0.mac.isMulticast && eth0.mac.isLocallyAdministered)
        let web2 = try #require(desired.microVMs.last)
        #expect(web2.kernel == "/var/lib/mooring/testbed/vmlinux")
        #expect(web2.kernelCmdline == "quiet")
        #expect(web2.interfaces.first?.mac == MACAddress("02:00:00:00:00:02"))
    }
}
