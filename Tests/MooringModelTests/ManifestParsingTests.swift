import Testing
@testable import MooringModel

/// Focused checks of decoding rules that the corpus does not pin down field by field.
struct ManifestParsingTests {
    private func parse(_ text: String, host: String? = nil) -> ManifestLoadResult {
        ManifestSet.parse(files: [ManifestFile(path: "m.yaml", text: text)], hostName: host)
    }

    private let header = "apiVersion: mooring.dev/v1alpha1\n"

    @Test func multiDocumentFilesAndEmptyDocuments() throws {
        let text = "---\n" + header + "kind: Bridge\nmetadata: {name: br0}\nspec: {}\n---\n---\n"
            + header + "kind: Bridge\nmetadata: {name: br1}\nspec: {mtu: 9000}\n"
        let desired = try #require(parse(text).desired)
        #expect(desired.bridges.map(\.name) == ["br0", "br1"])
        #expect(desired.bridges[1].mtu == 9000)
    }

    /// A finding quotes its own line of the file, whatever the line endings and non-ASCII text before it.
    @Test func findingsQuoteTheirLine() throws {
        let text = "# r\u{e9}seau \u{1F310}\r\n" + header.replacingOccurrences(of: "\n", with: "\r\n")
            + "kind: Bridge\r\nmetadata: {name: br0}\r\nspec: {mtu: nine}\r\n"
        let finding = try #require(parse(text).errors.first)
        #expect(finding.location?.line == 5)
        #expect(finding.sourceLine == "spec: {mtu: nine}")
    }

    /// A file large enough to be parsed in pieces on several cores reads exactly as one parsed whole:
    /// same manifests in the same order, and positions counted from the top of the file.
    @Test func largeFileParsedInPiecesKeepsOrderAndPositions() throws {
        var text = "# fleet\n"
        for index in 0..<1200 {
            text += "---\n" + header + "kind: Bridge\nmetadata: {name: br\(index)}\nspec: {mtu: \(1500 + index)}\n"
        }
        // Line of the `mtu:` in document 451 (1-based file lines): comment, then 5 lines per document.
        let badDocument = 451
        text = text.replacingOccurrences(of: "spec: {mtu: \(1500 + badDocument)}", with: "spec: {mtu: \"big\"}")
        let pieces = ManifestSet.chunks(of: text, into: 4)
        #expect(pieces.count == 4)
        #expect(pieces.map { String($0.text) }.joined() == text)

        let result = parse(text)
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error.location?.line == 1 + badDocument * 5 + 5)
        #expect(error.location?.column == 13)

        let whole = parse(text.replacingOccurrences(of: "spec: {mtu: \"big\"}", with: "spec: {}"))
        let desired = try #require(whole.desired)
        #expect(desired.bridges.map(\.name) == (0..<1200).map { "br\($0)" })
    }

    @Test func portRangesStayStringsDespiteYAML11Sexagesimal() throws {
        let text = header + """
            kind: NAT
            metadata: {name: n}
            spec:
              externalInterface: eth0
              internalInterfaces: [br0]
              forwardPorts:
                - {proto: tcp, sourcePort: 8000:8010, destination: 10.0.0.10}
                - {proto: udp, sourcePort: "53", destination: "10.0.0.10:5353"}
            """
        let nat = try #require(parse(text).desired?.nats.first)
        #expect(nat.forwards[0].sourcePort == PortRange(8000, 8010))
        #expect(nat.forwards[0].destinationPort == nil)
        #expect(nat.forwards[1].sourcePort == PortRange(single: 53))
        #expect(nat.forwards[1].destinationPort == 5353)
    }

    @Test func capmvmKernelCmdlineMapIsSortedKeyValue() throws {
        let text = header + """
            kind: MicroVM
            metadata: {name: a}
            spec:
              vcpu: 2
              memoryMb: 512
              kernel: {image: "ghcr.io/x/kernel:1", filename: /boot/vmlinux}
              kernelCmdline: {reboot: k, console: ttyS0, quiet: ""}
              networkInterfaces: [{guestDeviceName: eth0, type: macvtap, parentInterface: eth0}]
            """
        let result = parse(text)
        let vm = try #require(result.desired?.microVMs.first)
        #expect(vm.kernelCmdline == "console=ttyS0 quiet reboot=k")
        #expect(vm.kernel == "/boot/vmlinux")
        #expect(result.warnings.contains { $0.message.contains("is only a name here") })
        #expect(vm.interfaces[0].parentInterface == "eth0")
        #expect(vm.interfaces[0].macvtapMode == .bridge)
    }

    @Test func vmmNoneNeedsNoKernel() throws {
        let text = header + """
            kind: Host
            metadata: {name: h}
            spec: {vmm: none, defaultBridge: br0}
            ---
            apiVersion: mooring.dev/v1alpha1
            kind: MicroVM
            metadata: {name: a}
            spec:
              networkInterfaces: [{guestDeviceName: eth0, type: tap}]
            """
        let vm = try #require(parse(text).desired?.microVMs.first)
        #expect(vm.vmm == .none)
        #expect(vm.interfaces[0].bridge == "br0")
    }

    @Test func everyErrorIsReportedNotJustTheFirst() {
        let files = (1...3).map { index in
            ManifestFile(path: "f\(index).yaml", text: header + "kind: Bridge\nmetadata: {name: b\(index)}\nspec: {mtu: 1}\n")
        }
        let result = ManifestSet.parse(files: files)
        #expect(result.errors.count == 3)
        #expect(result.errors.map { $0.location?.file } == ["f1.yaml", "f2.yaml", "f3.yaml"])
    }

    @Test func sourceModeMacvtapsNeedTheirSourceMACs() throws {
        func vm(_ interface: String) -> String {
            header + "kind: MicroVM\nmetadata: {name: s}\nspec:\n  vmm: none\n  networkInterfaces:\n    - \(interface)\n"
        }
        let ok = try #require(parse(vm("{guestDeviceName: eth0, type: macvtap, parentInterface: eth1, macvtapMode: source, sourceMacs: [\"02:00:00:00:00:05\"]}")).desired)
        #expect(ok.microVMs.first?.interfaces.first?.sourceMACs == [MACAddress("02:00:00:00:00:05")!])
        let missing = parse(vm("{guestDeviceName: eth0, type: macvtap, parentInterface: eth1, macvtapMode: source}"))
        #expect(missing.errors.first?.message.contains("is required with macvtapMode: source") == true, "\(missing.errors)")
        let wrongMode = parse(vm("{guestDeviceName: eth0, type: macvtap, parentInterface: eth1, sourceMacs: [\"02:00:00:00:00:05\"]}"))
        #expect(wrongMode.errors.first?.message.contains("applies to macvtapMode: source only") == true, "\(wrongMode.errors)")
        let multicast = parse(vm("{guestDeviceName: eth0, type: macvtap, parentInterface: eth1, macvtapMode: source, sourceMacs: [\"01:00:5e:00:00:01\"]}"))
        #expect(multicast.errors.first?.message.contains("is not a unicast MAC address") == true, "\(multicast.errors)")
    }

    @Test func routesAndGatewaysAreCheckedAsTheKernelWould() throws {
        func bridge(_ extra: String) -> ManifestLoadResult {
            parse(header + "kind: Bridge\nmetadata: {name: br0}\nspec:\n  addresses: [192.0.2.10/24, 2001:db8::a/64]\n" + extra)
        }
        let ok = try #require(bridge("  gateways: [192.0.2.1, fe80::1]\n  routes: [{to: 10.9.0.0/16, via: 192.0.2.7, metric: 10}]\n").desired)
        #expect(ok.bridges[0].routes.map(\.text) == ["default via 192.0.2.1", "default via fe80::1 metric 1024",
                                                     "10.9.0.0/16 via 192.0.2.7 metric 10"])
        let unreachable = bridge("  gateways: [198.51.100.1]\n")
        #expect(unreachable.errors.first?.message.contains("is not in the bridge's subnets (192.0.2.10/24)") == true, "\(unreachable.errors)")
        let twice = bridge("  gateways: [192.0.2.1]\n  routes: [{to: default, via: 192.0.2.2}]\n")
        #expect(twice.errors.first?.message.contains("a second route to default") == true, "\(twice.errors)")
        let mixed = bridge("  routes: [{to: 10.9.0.0/16, via: \"2001:db8::1\"}]\n")
        #expect(mixed.errors.first?.message.contains("different address families") == true, "\(mixed.errors)")
        let noVia = bridge("  routes: [{to: default}]\n")
        #expect(noVia.errors.first?.message.contains("is required for a default route") == true, "\(noVia.errors)")
    }

    /// A guest's addresses (IPv4 and IPv6), its gateways and DNS: derived from its bridge unless given. On a
    /// bridge that holds the host's uplink (it declares gateways) the guest uses the LAN's router; else the bridge.
    @Test func guestAddressesGatewaysAndDNS() throws {
        func load(bridgeExtra: String, interface: String) throws -> DesiredInterface {
            let text = header + "kind: Bridge\nmetadata: {name: br0}\nspec:\n  addresses: [192.0.2.10/24, \"fd12::1/64\"]\n" + bridgeExtra
                + "---\n" + header + "kind: MicroVM\nmetadata: {name: web}\nspec:\n  vcpu: 1\n  memoryMb: 128\n  kernel: /boot/vmlinux\n"
                + "  networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: br0, \(interface)}]\n"
            let result = parse(text)
            return try #require(result.desired?.microVMs.first?.interfaces.first, "\(result.errors)")
        }
        let routed = try load(bridgeExtra: "", interface: "address: 192.0.2.20/24, addresses: [\"fd12::20/64\"]")
        #expect(routed.addresses.map(\.description) == ["192.0.2.20/24", "fd12::20/64"])
        #expect(routed.gateways.map(\.description) == ["192.0.2.10", "fd12::1"])
        #expect(routed.nameservers == nil)
        let onLAN = try load(bridgeExtra: "  gateways: [192.0.2.1]\n  nameservers: {addresses: [192.0.2.53]}\n", interface: "addresses: [192.0.2.20/24]")
        #expect(onLAN.gateways.map(\.description) == ["192.0.2.1"])
        #expect(onLAN.nameservers?.text == "192.0.2.53")
        let given = try load(bridgeExtra: "  nameservers: {addresses: [192.0.2.53]}\n",
                             interface: "addresses: [192.0.2.20/24], gateways: [192.0.2.99], nameservers: {addresses: [192.0.2.54], search: [lan]}")
        #expect(given.gateways.map(\.description) == ["192.0.2.99"])
        #expect(given.nameservers?.text == "192.0.2.54 search lan")
    }

    /// Anti-spoofing is on for the guests mooring runs, off for `vmm: none` unless asked, and the Host can turn the default off.
    @Test func antiSpoofingDefaults() throws {
        func interface(host: String, vmm: String, extra: String = "") throws -> DesiredInterface {
            let text = host + header + "kind: MicroVM\nmetadata: {name: web}\nspec:\n  vcpu: 1\n  memoryMb: 128\n  kernel: /boot/vmlinux\n  vmm: \(vmm)\n"
                + "  networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: br0\(extra)}]\n"
            let result = parse(text)
            return try #require(result.desired?.microVMs.first?.interfaces.first, "\(result.errors)")
        }
        let hostOff = header + "kind: Host\nmetadata: {name: h}\nspec: {antiSpoofing: false}\n---\n"
        #expect(try interface(host: "", vmm: "qemu-microvm").antiSpoofing)
        #expect(try !interface(host: "", vmm: "none").antiSpoofing)
        #expect(try interface(host: "", vmm: "none", extra: ", antiSpoofing: true").antiSpoofing)
        #expect(try !interface(host: hostOff, vmm: "qemu-microvm").antiSpoofing)
        #expect(try interface(host: hostOff, vmm: "qemu-microvm", extra: ", antiSpoofing: true").antiSpoofing)
        #expect(try !interface(host: "", vmm: "qemu-microvm", extra: ", antiSpoofing: false").antiSpoofing)
    }

    /// `nameservers` (netplan's spelling): servers and search domains, each checked where it is written.
    @Test func bridgeNameservers() throws {
        func bridge(_ extra: String) -> ManifestLoadResult {
            parse(header + "kind: Bridge\nmetadata: {name: br0}\nspec:\n  addresses: [192.0.2.10/24]\n" + extra)
        }
        let ok = try #require(bridge("  nameservers: {addresses: [192.0.2.53, \"2001:db8::53\"], search: [lan, example.com.]}\n").desired)
        #expect(ok.bridges[0].nameservers?.text == "192.0.2.53, 2001:db8::53 search lan, example.com.")
        let badDomain = bridge("  nameservers: {search: [\"-lan\", \"a..b\"]}\n")
        #expect(badDomain.errors.count == 2 && badDomain.errors[0].message.contains("-lan is not a DNS domain"), "\(badDomain.errors)")
        #expect(badDomain.errors.first?.location?.line == 6, "\(badDomain.errors)")
        let twice = bridge("  nameservers: {addresses: [192.0.2.53, 192.0.2.53]}\n")
        #expect(twice.errors.first?.message.contains("192.0.2.53 is listed twice") == true, "\(twice.errors)")
        let empty = bridge("  nameservers: {}\n")
        #expect(empty.errors.first?.message.contains("needs addresses (DNS servers) or search") == true, "\(empty.errors)")
        let unknown = bridge("  nameservers: {servers: [192.0.2.53]}\n")
        #expect(unknown.errors.contains { $0.message.contains("servers") }, "\(unknown.errors)")
    }

    @Test func documentsForOtherHostsAreLeftOut() throws {
        let text = header + "kind: Bridge\nmetadata: {name: br0}\nspec: {hosts: [alpha]}\n---\n"
            + header + "kind: Bridge\nmetadata: {name: br1}\nspec: {hosts: [beta, gamma]}\n---\n"
            + header + "kind: Bridge\nmetadata: {name: br2}\nspec: {}\n"
        #expect(try #require(parse(text, host: "beta").desired).bridges.map(\.name) == ["br1", "br2"])
        let fleet = parse(text)
        #expect(fleet.errors.isEmpty && fleet.documentsRead == 3)
        #expect(fleet.countsByKind.map(\.1) == [3] && fleet.documentsForHost == nil)
        // For one host only its documents are counted (validate --host used to count all three).
        let beta = parse(text, host: "beta")
        #expect(beta.documentsRead == 3 && beta.documentsForHost == 2 && beta.countsByKind.map(\.1) == [2])
    }

    @Test func hostSelectorsAndPerHostDuplicates() throws {
        let text = header + "kind: Bridge\nmetadata: {name: br0}\nspec: {hosts: [hv1], mtu: 1500}\n---\n"
            + header + "kind: Bridge\nmetadata: {name: br0}\nspec: {hosts: [hv2], mtu: 9000}\n---\n"
            + header + "kind: Bridge\nmetadata: {name: br1}\nspec: {hostSelector: {rack: r1}}\n"
        // Validating for the whole fleet: same-named documents for different hosts are not duplicates.
        #expect(parse(text).errors.isEmpty)
        let hv2 = try #require(ManifestSet.parse(files: [ManifestFile(path: "m.yaml", text: text)], hostName: "hv2",
                                                 hostLabels: ["rack": "r1"]).desired)
        #expect(hv2.bridges.map(\.name) == ["br0", "br1"])
        #expect(hv2.bridges[0].mtu == 9000)
        let other = try #require(parse(text, host: "hv1").desired)
        #expect(other.bridges.map(\.name) == ["br0"], "no rack label, no br1")
        let clash = text.replacingOccurrences(of: "hosts: [hv2]", with: "hosts: [hv1, hv2]")
        #expect(parse(clash).errors.first?.message.contains("duplicate Bridge name") == true)
    }

    @Test func aBridgeHoldsAtMost1023Ports() {
        var text = header + "kind: Bridge\nmetadata: {name: big}\nspec: {ports: [eth1]}\n"
        for index in 0..<1023 {
            text += "---\n" + header + "kind: MicroVM\nmetadata: {name: v\(index)}\nspec: {vmm: none, networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: big}]}\n"
        }
        let errors = parse(text).errors
        #expect(errors.map(\.message) == ["1024 ports (taps, host ports, VXLAN/VLAN) would join this bridge; a Linux bridge holds at most 1023: spread the MicroVMs over more bridges"])
        #expect(errors.first?.location?.line == 3)
    }

    @Test func destinationForms() {
        #expect(ManifestDecoder.parseDestination("10.0.0.10:80")! == (IPAddress("10.0.0.10")!, 80))
        #expect(ManifestDecoder.parseDestination("10.0.0.10")! == (IPAddress("10.0.0.10")!, nil))
        #expect(ManifestDecoder.parseDestination("[fd12::10]:443")! == (IPAddress("fd12::10")!, 443))
        #expect(ManifestDecoder.parseDestination("fd12::10")! == (IPAddress("fd12::10")!, nil))
        #expect(ManifestDecoder.parseDestination("[10.0.0.1]:80") == nil)
        #expect(ManifestDecoder.parseDestination("10.0.0.10:") == nil)
        #expect(ManifestDecoder.parseDestination("host:80") == nil)
    }
}

/// Names that would change meaning where mooring writes them (nftables rules and maps, QEMU's comma-separated
/// options) are refused with a clear error instead of being dropped or widened later.
struct HostileNameTests {
    private let header = "apiVersion: mooring.dev/v1alpha1\n"

    @Test(arguments: ["v*", "a\"b", "a\\\\b", "ta,ifname=tb", "br%d"])
    func interfaceNamesThatChangeMeaningAreRefused(_ name: String) {
        let text = header + "kind: Bridge\nmetadata: {name: '\(name)'}\nspec: {}\n"
        let result = ManifestSet.parse(files: [ManifestFile(path: "m.yaml", text: text)])
        #expect(result.desired == nil)
        #expect(result.errors.contains { $0.description.contains("which mooring refuses in interface names") },
                "\(result.diagnostics.map(\.description))")
    }

    @Test func aDriveIdThatWouldAddQEMUOptionsIsRefused() {
        let text = header + """
            kind: MicroVM
            metadata: {name: vm}
            spec:
              kernel: /k/vmlinux
              rootVolume: {id: "r,file=/etc/shadow", path: /d/root.img}
            """
        let result = ManifestSet.parse(files: [ManifestFile(path: "m.yaml", text: text)])
        #expect(result.desired == nil)
        #expect(result.errors.contains { $0.description.contains("may hold only letters, digits") },
                "\(result.diagnostics.map(\.description))")
    }
}
