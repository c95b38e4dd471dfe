import Foundation
import MooringModel
import Testing

/// A real Debian 12 cloud guest (Debian's own kernel, cloud-init 22.4, systemd-networkd and sshd; built once by
/// scripts/debian-guest) booted by mooring under TCG, checked over SSH with the key its manifest gives: the
/// hostname, both addresses, both default routes and the DNS servers and search domain all come from mooring's
/// seed disk as Debian's cloud-init reads it; removing the VM powers it off cleanly. The test bed's busybox guest
/// parses mooring's output with mooring's own rules; this one does not.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct RealDebianGuestTests {
    /// The cached guest (scripts/debian-guest), a copy of its disk of the test's own, and an SSH key pair.
    static func prepare() throws -> (guest: String, files: ManifestDirectory, disk: String, publicKey: String) {
        let built = try Shell.run([TestEnvironment.repository.appendingPathComponent("scripts/debian-guest").path])
        let guest = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(built.status == 0 && !guest.isEmpty, "scripts/debian-guest: \(built.stderr)")
        let files = try ManifestDirectory(forVMMs: true)
        let disk = files.path + "/deb-root.img"
        try Shell.must("cp", "--sparse=always", guest + "/disk.img", disk)
        try Shell.must("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mooring-test", "-f", files.path + "/key")
        let publicKey = try String(contentsOfFile: files.path + "/key.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (guest, files, disk, publicKey)
    }

    /// `command` run as root on the guest at `address`, over SSH from the harness's namespace with the test's key.
    static func ssh(_ command: String, to address: String, in harness: Harness, key files: ManifestDirectory) -> Shell.Output? {
        try? Shell.run(["ip", "netns", "exec", harness.ns.name, "ssh", "-i", files.path + "/key", "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                        "root@\(address)", command])
    }

    @Test func aDebianCloudGuestIsConfiguredByItsSeedAndAnswersOverSSH() throws {
        let (guest, files, disk, publicKey) = try Self.prepare()
        let harness = try Harness("dg", userBus: true)
        defer { harness.tearDown() }

        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("dgbr", addresses: ["10.31.0.1/24", "\"fd31::1/64\""]))
        try harness.manifests.write("vm.yaml", Manifests.header + """
            kind: MicroVM
            metadata: {name: deb}
            spec:
              vcpu: 2
              memoryMb: 1024
              vmm: qemu-microvm
              kernel: \(guest)/vmlinuz
              initrd: \(guest)/initrd.img
              kernelCmdline: "root=/dev/vda rw"
              rootVolume: {id: root, path: \(disk)}
              sshPublicKeys: [{user: root, authorizedKeys: ["\(publicKey)"]}]
              networkInterfaces:
                - {guestDeviceName: eth0, type: tap, bridge: dgbr, addresses: [10.31.0.10/24, "fd31::10/64"],
                   nameservers: {addresses: [10.31.0.1, "fd31::1"], search: [lan.example]}}

            """)
        let applied = try harness.cli("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")

        func ssh(_ command: String, to address: String = "10.31.0.10") -> Shell.Output? { Self.ssh(command, to: address, in: harness, key: files) }
        func console() -> String { (try? String(contentsOfFile: "/run/mooring/vms/deb/vmm/console.log", encoding: .utf8)) ?? "" }
        // sshd answers about 40 s into a TCG boot on an idle host; the suite runs beside others.
        #expect(eventually(timeout: 300) { ssh("true")?.status == 0 }, "ssh never answered: \(console().suffix(3000))")
        // cloud-init has finished with the network and the keys once sshd lets the key in; wait for all of it.
        #expect(eventually(timeout: 120) { ssh("cloud-init status")?.stdout.contains("status: done") == true },
                "\(ssh("cloud-init status --long")?.stdout ?? "")")

        #expect(ssh("hostname")?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "deb")
        let addresses = ssh("ip -o addr show dev eth0")?.stdout ?? ""
        #expect(addresses.contains("10.31.0.10/24") && addresses.contains("fd31::10/64"), "\(addresses)")
        let routes = ssh("ip route show default; ip -6 route show default")?.stdout ?? ""
        #expect(routes.contains("default via 10.31.0.1 dev eth0"), "\(routes)")
        #expect(routes.contains("default via fd31::1 dev eth0"), "the IPv6 default route (was ::/64 from routes: ::/0): \(routes)")
        let dns = ssh("resolvectl dns eth0; resolvectl domain eth0")?.stdout ?? ""
        #expect(dns.contains("10.31.0.1") && dns.contains("fd31::1") && dns.contains("lan.example"), "\(dns)")
        // Over IPv6 too.
        #expect(ssh("true", to: "fd31::10")?.status == 0)

        // Removing it powers it off through ACPI: a clean stop.
        try harness.manifests.remove("vm.yaml")
        let removed = try harness.cli("apply")
        #expect(removed.status == 0, "\(removed.stdout)\(removed.stderr)")
        #expect(removed.stdout.contains("stopped deb: the guest shut down cleanly"), "\(removed.stdout)")
    }

    /// The bridge serves (`dhcpServer` with a pool, `ipv6SendRA` with RDNSS) and the guest declares no address:
    /// its seed says `dhcp4: true`, so Debian's own systemd-networkd asks dnsmasq for an address, router and DNS
    /// server, and takes its IPv6 address, default route and DNS server from the bridge's router advertisements.
    @Test func aDebianGuestTakesItsNetworkFromTheBridgesDHCPAndRouterAdvertisements() throws {
        let (guest, files, disk, publicKey) = try Self.prepare()
        let harness = try Harness("dd", userBus: true)
        defer { harness.tearDown() }

        try harness.manifests.write("host.yaml", Manifests.tcgHost)
        try harness.manifests.write("bridge.yaml", Manifests.bridge("ddbr", addresses: ["10.32.0.1/24", "\"fd32::1/64\""], extra: """
              dhcpServer: {pool: {start: 10.32.0.100, end: 10.32.0.110}, dnsServers: [10.32.0.53]}
              ipv6SendRA: {dnsServers: ["fd32::53"]}

            """))
        try harness.manifests.write("vm.yaml", Manifests.header + """
            kind: MicroVM
            metadata: {name: debdhcp}
            spec:
              vcpu: 2
              memoryMb: 1024
              vmm: qemu-microvm
              kernel: \(guest)/vmlinuz
              initrd: \(guest)/initrd.img
              kernelCmdline: "root=/dev/vda rw"
              rootVolume: {id: root, path: \(disk)}
              sshPublicKeys: [{user: root, authorizedKeys: ["\(publicKey)"]}]
              networkInterfaces:
                - {guestDeviceName: eth0, type: tap, bridge: ddbr, antiSpoofing: false}

            """)
        let applied = try harness.cli("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")

        // Its address is the pool's: find it by the neighbour table once it speaks.
        let mac = DeviceNaming.guestMAC(vm: "debdhcp", device: "eth0").description
        func leased() -> String? {
            let neighbours = (try? Shell.run(["ip", "-n", harness.ns.name, "-4", "neigh", "show", "dev", "ddbr"]))?.stdout ?? ""
            return neighbours.split(separator: "\n").first { $0.contains(mac) && $0.contains("10.32.0.1") }.map { String($0.split(separator: " ")[0]) }
        }
        func ssh(_ command: String, to address: String) -> Shell.Output? { Self.ssh(command, to: address, in: harness, key: files) }
        func console() -> String { (try? String(contentsOfFile: "/run/mooring/vms/debdhcp/vmm/console.log", encoding: .utf8)) ?? "" }
        var address: String?
        #expect(eventually(timeout: 300) {
            address = leased()
            return address.map { ssh("true", to: $0)?.status == 0 } ?? false
        }, "no lease answered ssh: \(console().suffix(3000))")
        guard let address else { return }
        #expect(address.hasPrefix("10.32.0.1") && Int(address.split(separator: ".").last!)! >= 100, "a pool address: \(address)")
        #expect(eventually(timeout: 120) { ssh("cloud-init status", to: address)?.stdout.contains("status: done") == true })
        let routes = ssh("ip route show default; ip -6 route show default; ip -6 -o addr show dev eth0 scope global", to: address)?.stdout ?? ""
        #expect(routes.contains("default via 10.32.0.1 dev eth0"), "\(routes)")
        #expect(routes.contains("default via fe80::") && routes.contains("fd32::"), "an IPv6 default route and a SLAAC address from the RAs: \(routes)")
        let dns = ssh("resolvectl dns eth0", to: address)?.stdout ?? ""
        #expect(dns.contains("10.32.0.53") && dns.contains("fd32::53"), "DNS from DHCP and from the RAs' RDNSS: \(dns)")
    }
}
