import Foundation
import Testing

/// A compromised VMM against its neighbour, under the system manager: two real TCG guests, `web` and `api`, each
/// with a tap and a writable disk. A stand-in for a guest that escaped QEMU runs inside web's VMM as web's VMM
/// does (its mount and network namespaces, its uid, its groups, no capabilities) and tries each attack that
/// worked when all VMMs shared `mooring-vmm`: seeing api's VMM in /proc, signalling it, reading its console,
/// talking to its QMP socket, opening its disk, attaching a queue to its multi-queue tap. Each must fail, and
/// api must still run.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPID1Bed, TestEnvironment.pid1BedReason),
       .enabled(if: TestEnvironment.guestDirectory != nil, "needs the test bed's guest image (scripts/testbed run)"))
struct HostileVMMTests {
    static func guest(_ name: String, address: String) -> String {
        PID1Host.guestManifest(name, vcpu: 2, interface: "{guestDeviceName: eth0, type: tap, bridge: br0, address: \(address)}",
                               extraSpec: ["rootVolume: {id: data, path: /var/lib/mooring-test/\(name)-disk.img}"])
    }

    @Test func aVMMCannotReachAnotherVMMsProcessConsoleSocketDiskOrTap() throws {
        let host = try PID1Host("hv")
        let install = try host.installPackage()
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        try host.installHostQEMU(guest: try #require(TestEnvironment.guestDirectory))
        try host.openTunToAll()
        for name in ["web", "api"] {
            #expect(try host.run("sh", "-c", "truncate -s 1M /var/lib/mooring-test/\(name)-disk.img").status == 0)
        }
        try host.write("/etc/mooring/manifests/host.yaml", [Manifests.tcgHost, Manifests.bridge("br0", addresses: ["10.0.0.1/24"]),
                                                            Self.guest("web", address: "10.0.0.10/24"),
                                                            Self.guest("api", address: "10.0.0.11/24")].joined(separator: "---\n"))
        let applied = try host.run("mooring", "apply", "-f", "/etc/mooring/manifests")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(eventually(timeout: 90) { host.read("/run/mooring/vms/api/vmm/console.log").contains("MVM-READY") })

        // One identity each: two uids of mooring's range, neither the shared mooring-vmm; each tap and disk its VM's.
        func pid(_ vm: String) throws -> String { try host.unit("mooring-vm-\(vm).service", "MainPID")["MainPID"] ?? "0" }
        let webPID = try pid("web"), apiPID = try pid("api")
        func uid(_ pid: String) -> String {
            host.read("/proc/\(pid)/status").split(separator: "\n").first { $0.hasPrefix("Uid:") }?
                .split(separator: "\t").dropFirst().first.map(String.init) ?? ""
        }
        let webUID = uid(webPID), apiUID = uid(apiPID)
        #expect(webUID != apiUID && UInt32(webUID).map { $0 >= 0x6D6F_0000 } == true && UInt32(apiUID).map { $0 >= 0x6D6F_0000 } == true,
                "web runs as \(webUID), api as \(apiUID)")
        let apiTap = try host.run("ip", "-d", "link", "show", "vm-api-eth0").stdout
        let apiUser = try host.run("getent", "passwd", apiUID).stdout.split(separator: ":").first.map(String.init) ?? "?"
        #expect(apiTap.contains("user \(apiUser)") && apiTap.contains("multi_queue"), "\(apiTap)")
        #expect(try host.run("stat", "-c", "%u %a", "/var/lib/mooring-test/api-disk.img").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == "\(apiUID) 600")

        // The stand-in: web's VMM's namespaces, uid, groups; no capabilities.
        let groups = host.read("/proc/\(webPID)/status").split(separator: "\n").first { $0.hasPrefix("Groups:") }?
            .split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().joined(separator: ",") ?? ""
        func asWebVMM(_ script: String) throws -> Shell.Output {
            try host.run("nsenter", "-t", webPID, "-m", "-n", "--", "setpriv", "--reuid=\(webUID)", "--regid=\(webUID)",
                         "--groups=\(groups)", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "sh", "-c", script)
        }
        let apiRun = "/run/mooring/vms/api/vmm"
        let attacks: [(String, String)] = [
            ("see api's VMM in /proc", "ls /proc/\(apiPID)/fd"),
            ("signal api's VMM", "kill -0 \(apiPID)"),
            ("read api's console through its root", "cat /proc/\(apiPID)/root\(apiRun)/console.log"),
            ("read api's console by its path", "cat \(apiRun)/console.log"),
            // stop-vm says how the guest went down when it reached the socket ("cleanly", or not within the timeout
            // "of the power button"); anything else is a refusal.
            ("power api off through its QMP socket", "mooring stop-vm --vmm qemu-microvm --socket /proc/\(apiPID)/root\(apiRun)/qmp.sock "
                + "--timeout 1 --record /tmp/r.json | grep -qE 'cleanly|of the power button'"),
            ("open api's disk", "cat /var/lib/mooring-test/api-disk.img > /dev/null"),
            ("write api's disk", "printf x | dd of=/var/lib/mooring-test/api-disk.img conv=notrunc 2>/dev/null"),
            ("reopen api's disk through /proc", "for f in /proc/\(apiPID)/fd/*; do cat $f > /dev/null && exit 0; done; exit 1"),
            ("attach a queue to api's tap", "ip tuntap add dev vm-api-eth0 mode tap multi_queue"),
        ]
        for (name, script) in attacks {
            let attempt = try asWebVMM(script)
            #expect(attempt.status != 0, "\(name) worked: \(attempt.stdout)\(attempt.stderr)")
        }
        // The stand-in really is web's VMM: its own things are within reach.
        let own = try asWebVMM("ls /proc/\(webPID)/fd > /dev/null && cat /run/mooring/vms/web/vmm/console.log > /dev/null && id -u")
        #expect(own.status == 0 && own.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == webUID, "\(own.stdout)\(own.stderr)")
        #expect(try host.unit("mooring-vm-api.service", "ActiveState", "MainPID") == ["ActiveState": "active", "MainPID": apiPID], "api still runs")
    }
}
