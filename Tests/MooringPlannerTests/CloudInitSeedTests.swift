import MooringModel
import MooringPlan
@testable import MooringPlanner
import Testing

/// What a guest is told on its cloud-init disk, exactly.
@Suite struct CloudInitSeedTests {
    static func vm(dns: Nameservers? = Nameservers(addresses: [IPAddress("10.0.0.1")!], search: ["lan"])) -> DesiredMicroVM {
        var vm = DesiredMicroVM(origin: Fixture.origin(.microVM, "web"), name: "web", interfaces: [
            DesiredInterface(guestDeviceName: "eth0", type: .tap, hostDeviceName: "vm-web-eth0", mac: MACAddress("02:00:00:00:00:01")!,
                             addresses: [CIDR("10.0.0.10/24")!, CIDR("fd12::10/64")!], gateways: [IPAddress("10.0.0.1")!, IPAddress("fd12::1")!],
                             nameservers: dns, bridge: "br0"),
            DesiredInterface(guestDeviceName: "eth1", type: .macvtap, hostDeviceName: "vm-web-eth1", mac: MACAddress("02:00:00:00:00:02")!,
                             parentInterface: "eno1"),
        ])
        vm.sshPublicKeys = [GuestUserKeys(user: "root", authorizedKeys: ["ssh-ed25519 AAAAC3Nza me@laptop"])]
        return vm
    }

    @Test func theSeedSaysEverythingTheManifestDoes() throws {
        let seed = try #require(CloudInitSeed.disk(Self.vm(), runDirectory: "/run/mooring/vms/web"))
        #expect(seed.path == "/run/mooring/vms/web/cidata.img" && seed.label == "cidata")
        let files = Dictionary(uniqueKeysWithValues: seed.files.map { ($0.path, $0.contents) })
        #expect(files["network-config"] == """
            version: 2
            ethernets:
              eth0:
                match:
                  macaddress: "02:00:00:00:00:01"
                set-name: "eth0"
                addresses:
                  - "10.0.0.10/24"
                  - "fd12::10/64"
                gateway4: "10.0.0.1"
                gateway6: "fd12::1"
                nameservers:
                  addresses:
                    - "10.0.0.1"
                  search:
                    - "lan"
              eth1:
                match:
                  macaddress: "02:00:00:00:00:02"
                set-name: "eth1"
                dhcp4: true

            """)
        #expect(files["user-data"] == """
            #cloud-config
            hostname: "web"
            disable_root: false
            users:
              - name: "root"
                ssh_authorized_keys:
                  - "ssh-ed25519 AAAAC3Nza me@laptop"

            """)
        #expect(files["meta-data"]?.hasPrefix("instance-id: \"web-") == true)
        #expect(files["meta-data"]?.hasSuffix("local-hostname: \"web\"\n") == true)
    }

    /// A changed configuration is a new instance (cloud-init applies it again) and a new unit (the VM restarts).
    @Test func aChangedConfigurationIsANewInstance() throws {
        let before = try #require(CloudInitSeed.disk(Self.vm(), runDirectory: "/r"))
        let after = try #require(CloudInitSeed.disk(Self.vm(dns: nil), runDirectory: "/r"))
        #expect(before.files.first?.contents != after.files.first?.contents)
        let environment = VMMEnvironment(executables: ["qemu-system-x86_64": "/usr/bin/qemu-system-x86_64"])
        var vm = Self.vm()
        vm.interfaces.removeLast()
        let hash = VMMCommand.unit(for: vm, in: environment)?.specHash
        vm.interfaces[0].nameservers = nil
        #expect(VMMCommand.unit(for: vm, in: environment)?.specHash != hash)
    }

    @Test func cloudInitOffMeansNoSeed() {
        var vm = Self.vm()
        vm.cloudInit = false
        #expect(CloudInitSeed.disk(vm, runDirectory: "/r") == nil)
    }
}
