import Testing
@testable import MooringModel

struct NetValueTests {
    @Test func cidrParsingAndContainment() throws {
        let cidr = try #require(CIDR("10.0.0.1/24"))
        #expect(cidr.network == IPAddress("10.0.0.0"))
        #expect(cidr.contains(IPAddress("10.0.0.200")!))
        #expect(!cidr.contains(IPAddress("10.0.1.1")!))
        #expect(cidr.netmask == "255.255.255.0")
        #expect(CIDR("fd12:3456:789a::1/64")?.description == "fd12:3456:789a::1/64")
        #expect(CIDR("FD12:0:0::1/64")?.description == "fd12::1/64")
        for bad in ["10.0.0.1", "10.0.0.1/", "10.0.0.1/33", "10.0.0/24", "::1/129", "10.0.0.1/+8", "a/8"] {
            #expect(CIDR(bad) == nil, "\(bad)")
        }
    }

    @Test func macAddresses() {
        #expect(MACAddress("02:AA:bb:00:00:01")?.description == "02:aa:bb:00:00:01")
        #expect(MACAddress("02-aa-bb-00-00-01") != nil)
        #expect(MACAddress("02:aa:bb:00:00") == nil)
        #expect(MACAddress("02:aa:bb:00:00:0g") == nil)
        #expect(MACAddress("01:00:5e:00:00:01")!.isMulticast)
    }

    @Test func portRanges() throws {
        #expect(try PortRange.parse("80").get() == PortRange(single: 80))
        #expect(try PortRange.parse("8000:8010").get() == PortRange(8000, 8010))
        #expect(try PortRange.parse("8000-8010").get().description == "8000-8010")
        #expect(throws: PortRangeProblem.self) { try PortRange.parse("0").get() }
        #expect(throws: PortRangeProblem.self) { try PortRange.parse("10:5").get() }
        #expect(throws: PortRangeProblem.self) { try PortRange.parse("1:2:3").get() }
        #expect(PortRange(80, 90).overlaps(PortRange(single: 90)))
        #expect(!PortRange(80, 90).overlaps(PortRange(single: 91)))
    }

    @Test func interfaceNames() {
        #expect(InterfaceName.isValid("br0"))
        #expect(InterfaceName.isValid("123456789012345"))
        #expect(!InterfaceName.isValid("1234567890123456"))
        for bad in ["", ".", "..", "a/b", "a b", "a:b", "a\tb", "é" + String(repeating: "x", count: 14)] {
            #expect(!InterfaceName.isValid(bad), "\(bad)")
        }
    }

    @Test func derivedNamesAreStableShortAndValid() {
        #expect(DeviceNaming.microVMDevice(vm: "web-1", device: "eth0") == "vm-web-1-eth0")
        let long = DeviceNaming.microVMDevice(vm: "a-very-long-microvm-name", device: "eth0")
        #expect(long == DeviceNaming.microVMDevice(vm: "a-very-long-microvm-name", device: "eth0"))
        #expect(long != DeviceNaming.microVMDevice(vm: "a-very-long-microvm-name", device: "eth1"))
        #expect(InterfaceName.isValid(long) && long.utf8.count <= 15)
        let vxlan = DeviceNaming.bridgePort(bridge: "a-long-bridge-1", prefix: "vx", field: "vxlan")
        #expect(InterfaceName.isValid(vxlan))
        // The name hosts already carry: a port's name must never change under it.
        #expect(vxlan == "vx-\(StableHash.hex("Bridge/a-long-bridge-1/vxlan", digits: 12))")
        #expect(DeviceNaming.bridgePort(bridge: "br0", prefix: "vx", field: "vxlan") == "vx-br0")
        #expect(DeviceNaming.vlanPort(parent: "eth0", id: 100) == "eth0.100")
    }

    /// A bridge's service unit is named per namespace (bridges are per namespace, units per host), and only the
    /// exact name mooring would give there maps back to a bridge.
    @Test func bridgeServiceNamesAreOnePerNamespace() {
        #expect(SystemdNames.unitName(forBridgeService: "br0") == "mooring-bridge-br0.service")
        let named = SystemdNames.unitName(forBridgeService: "br-0", netns: "ns-a")
        #expect(named == "mooring-bridge-ns\\x2da-br\\x2d0.service")
        #expect(SystemdNames.bridge(forServiceUnit: named, netns: "ns-a") == "br-0")
        #expect(SystemdNames.bridge(forServiceUnit: named) == nil)
        #expect(SystemdNames.bridge(forServiceUnit: named, netns: "ns-b") == nil)
        #expect(SystemdNames.bridge(forServiceUnit: "mooring-bridge-br0.service", netns: "ns-a") == nil)
        #expect(SystemdNames.bridge(forServiceUnit: "mooring-bridge-..-..-etc.service") == nil)
        #expect(SystemdNames.bridgeServiceDirectory(runRoot: "/run/mooring", bridge: "br0", netns: nil) == "/run/mooring/bridges/br0")
        #expect(SystemdNames.bridgeServiceDirectory(runRoot: "/run/mooring", bridge: "br0", netns: "ns-a") == "/run/mooring/bridges/ns-a.br0")
    }

    @Test func derivedMACsAreLocalUnicastAndStable() {
        let mac = DeviceNaming.guestMAC(vm: "web-1", device: "eth0")
        #expect(mac == DeviceNaming.guestMAC(vm: "web-1", device: "eth0"))
        #expect(mac != DeviceNaming.guestMAC(vm: "web-2", device: "eth0"))
        #expect(mac.isLocallyAdministered && !mac.isMulticast)
        // Pinned: a derived MAC must never change between releases, or every guest's MAC would.
        #expect(StableHash.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.hex("a") == "af63dc4c8601ec8c")
    }

    @Test func ratesReadAsTcSpellsThem() {
        #expect(RateLimit.bytesPerSecond("8mbit") == 1_000_000)
        #expect(RateLimit.bytesPerSecond("1Gbit") == 125_000_000)
        #expect(RateLimit.bytesPerSecond("512kbit") == 64_000)
        for bad in ["8", "8mb", "0mbit", "-1mbit", "4kbit", "99999999999999999gbit", "mbit"] {
            #expect(RateLimit.bytesPerSecond(bad) == nil, "\(bad)")
        }
    }
}
