import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import MooringPlanner
import Testing

/// The cloud-init seed disk, read back by FAT implementations that are not mooring's: dosfstools' checker finds
/// nothing wrong and mtools lists the label and the long file names with their exact contents. (A guest kernel
/// reading it is in MicroVMTests.)
@Suite struct SeedDiskTests {
    static func vm() -> DesiredMicroVM {
        var vm = DesiredMicroVM(origin: ManifestOrigin(kind: .microVM, name: "web", location: SourceLocation(file: "m.yaml", line: 1, column: 1)), name: "web", interfaces: [
            DesiredInterface(guestDeviceName: "eth0", type: .tap, hostDeviceName: "vm-web-eth0", mac: MACAddress("02:00:00:00:00:01")!,
                             addresses: [CIDR("10.0.0.10/24")!, CIDR("fd12::10/64")!], gateways: [IPAddress("10.0.0.1")!, IPAddress("fd12::1")!],
                             nameservers: Nameservers(addresses: [IPAddress("10.0.0.1")!], search: ["lan"]), bridge: "br0"),
        ])
        vm.sshPublicKeys = [GuestUserKeys(user: "root", authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7x me@laptop"])]
        return vm
    }

    private func run(_ arguments: String...) throws -> Shell.Output { try Shell.run(arguments) }

    @Test func otherFATReadersReadTheSeed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var seed = try #require(CloudInitSeed.disk(Self.vm(), runDirectory: directory))
        // A file longer than a cluster and a name longer than one long-name entry exercise the chains.
        seed.files.append(UnitFile(path: "a-long-file-name-for-the-check.txt", contents: String(repeating: "0123456789abcdef\n", count: 200)))
        try DirectoryHandle.open(directory).replaceFile("cidata.img", contents: SeedDiskImage.bytes(seed), mode: 0o640)
        #expect(try SeedDiskImage.bytes(seed) == SeedDiskImage.bytes(seed), "the same seed gives the same bytes")

        let check = try run("fsck.fat", "-n", seed.path)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(try run("fatlabel", seed.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "CIDATA")
        let listing = try run("mdir", "-i", seed.path, "::").stdout
        for file in seed.files {
            #expect(listing.contains(file.path), "\(file.path) in \(listing)")
            let read = try run("mtype", "-i", seed.path, "::\(file.path)")
            #expect(read.status == 0 && read.stdout == file.contents, "\(file.path): \(read.stderr)")
        }
        let network = try #require(seed.files.first { $0.path == "network-config" }).contents
        #expect(network.contains("      - \"fd12::10/64\"") && network.contains("    gateway6: \"fd12::1\""), "\(network)")
    }

    /// cloud-init reads the seed with PyYAML (YAML 1.1), which folds or breaks lines at NEL, U+2028 and U+2029
    /// even inside a double-quoted scalar: a key holding one reached the guest changed. Each is escaped now, so
    /// the real parser gives back exactly the manifest's text.
    @Test func keysWithLineBreaksOnlyYAMLKnowsReachTheGuestUnchanged() throws {
        var vm = Self.vm()
        let keys = ["ssh-ed25519 AAAA a\u{85}  - evil", "ssh-ed25519 AAAA b\u{2028}- evil", "ssh-ed25519 AAAA c\u{2029}x",
                    "ssh-ed25519 AAAA d\u{FEFF}\u{9B}\u{7F}e"]
        vm.sshPublicKeys = [GuestUserKeys(user: "root", authorizedKeys: keys)]
        let seed = try #require(CloudInitSeed.disk(vm, runDirectory: "/run/x"))
        let userData = try #require(seed.files.first { $0.path == "user-data" }).contents
        let script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())['users'][0]['ssh_authorized_keys']))"
        let parsed = try Shell.run(["/usr/bin/python3", "-c", script], input: userData)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let read = try JSONDecoder().decode([String].self, from: Data(parsed.stdout.utf8))
        #expect(read == keys, "PyYAML read \(read.map(\.debugDescription))")
    }

    @Test func aSeedTooLargeForTheDiskIsAnError() {
        let seed = SeedDisk(path: "/nonexistent", label: "cidata", files: [UnitFile(path: "big", contents: String(repeating: "x", count: 2_000_000))])
        #expect(throws: SeedDiskImage.TooLarge.self) { try SeedDiskImage.bytes(seed) }
    }
}
