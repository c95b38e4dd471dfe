import Foundation
import Testing

/// Production MicroVMs under the system manager (PID 1): the VMM runs as its VM's own user (`vm-web`, a record in
/// systemd's user database) with no capabilities in
/// its sandbox, boots a real guest that serves through a port forward, gets a queue per vCPU on its tap, and
/// is stopped through the guest's power button: a guest that powers off is reported clean (and its disk holds
/// the marker it wrote on the way down); one that ignores the button is terminated after its timeout, reported
/// forced.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPID1Bed, TestEnvironment.pid1BedReason),
       .enabled(if: TestEnvironment.guestDirectory != nil, "needs the test bed's guest image (scripts/testbed run)"))
struct MicroVMSandboxTests {
    static let unit = "mooring-vm-web.service"
    static let disk = "/var/lib/mooring-test/web-disk.img"

    static func guest(kernelCmdline: String = "", stopTimeout: Int = 30) -> String {
        PID1Host.guestManifest("web", vcpu: 2, interface: "{guestDeviceName: eth0, type: tap, bridge: br0, address: 10.0.0.10/24}",
                               extraSpec: ["kernelCmdline: \"\(kernelCmdline)\"", "stopTimeoutSeconds: \(stopTimeout)",
                                           "rootVolume: {id: data, path: \(disk)}"])
    }

    static func manifests(withGuest guest: String?) -> String {
        ([Manifests.tcgHost, Manifests.bridge("up0", addresses: ["192.0.2.1/24"]), Manifests.bridge("br0", addresses: ["10.0.0.1/24"]),
          Manifests.header + """
            kind: NAT
            metadata: {name: edge}
            spec: {externalInterface: up0, internalInterfaces: [br0], forwardPorts: [{proto: tcp, sourcePort: 8080, destination: "10.0.0.10:80"}]}

            """] + (guest.map { [$0] } ?? [])).joined(separator: "---\n")
    }

    /// The package, the host's QEMU and the guest, and a 1 MiB disk the VMM's user may write.
    private func host() throws -> PID1Host {
        let host = try PID1Host("sb")
        let install = try host.installPackage()
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        try host.installHostQEMU(guest: try #require(TestEnvironment.guestDirectory))
        #expect(try host.run("sh", "-c", "truncate -s 1M \(Self.disk) && chown mooring-vmm:mooring-vmm \(Self.disk)").status == 0)
        return host
    }

    /// The host with the guest applied and booted.
    private func hostWithABootedGuest() throws -> PID1Host {
        let host = try host()
        try host.openTunToAll()
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests(withGuest: Self.guest()))
        let applied = try apply(host)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(booted(host), "the guest booted: \(host.read("/run/mooring/vms/web/vmm/console.log").suffix(400))")
        return host
    }

    private func apply(_ host: PID1Host) throws -> Shell.Output {
        try host.run("mooring", "apply", "-f", "/etc/mooring/manifests")
    }

    private func booted(_ host: PID1Host) -> Bool {
        eventually(timeout: 90) { host.read("/run/mooring/vms/web/vmm/console.log").contains("MVM-READY") }
    }

    @Test func anUnprivilegedSandboxedGuestServesThroughItsForwardAndShutsDownCleanly() throws {
        let host = try host()
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests(withGuest: Self.guest()))
        // This machine has no udev: /dev/net/tun is root's alone. Said before the VM is started, not after.
        let refused = try apply(host)
        #expect(refused.status == 1 && refused.stdout.contains("VMM cannot open /dev/net/tun"), "\(refused.stdout)\(refused.stderr)")
        try host.openTunToAll()
        let applied = try apply(host)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(booted(host), "the guest booted: \(host.read("/run/mooring/vms/web/vmm/console.log").suffix(400))")

        // The console, read-only, by the VM's name; a name that is not a VM's never becomes a path.
        let console = try host.run("mooring", "console", "web", "-n", "0")
        #expect(console.status == 0 && console.stdout.contains("MVM-READY web"), "\(console.stdout)\(console.stderr)")
        let hostile = try host.run("mooring", "console", "../../etc")
        #expect(hostile.status != 0 && hostile.stderr.contains("is not a MicroVM name"), "\(hostile.stderr)")

        // Unprivileged: the VMM's process is its VM's own user's, with no capability at all.
        let pid = try host.unit(Self.unit, "MainPID")["MainPID"] ?? "0"
        let owner = try host.run("ps", "-o", "user=", "-p", pid).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(owner == "vm-web", "the VMM runs as \(owner)")
        let status = host.read("/proc/\(pid)/status")
        #expect(status.contains("CapEff:\t0000000000000000") && status.contains("CapBnd:\t0000000000000000"), "\(status)")
        #expect(status.contains("NoNewPrivs:\t1") && status.contains("Seccomp:\t2"), "\(status)")

        // Its tap: owned by that user, multi-queue, both queues attached (2 vCPUs).
        let tap = try host.run("ip", "-d", "link", "show", "vm-web-eth0").stdout
        #expect(tap.contains("multi_queue") && tap.contains("numqueues 2") && tap.contains("user vm-web"), "\(tap)")

        // It serves through the port forward, from a client on the uplink bridge.
        let client = try host.run("sh", "-c", """
            ip link add cl0 type veth peer name cl1 && ip link set cl1 master up0 && ip link set cl1 up &&
            ip netns add client && ip link set cl0 netns client && ip -n client addr add 192.0.2.50/24 dev cl0 &&
            ip -n client link set cl0 up
            """)
        #expect(client.status == 0, "\(client.stderr)")
        let served = eventually(timeout: 30) {
            let reply = (try? host.run("ip", "netns", "exec", "client", "bash", "-c",
                                       "exec 3<>/dev/tcp/192.0.2.1/8080; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; timeout 5 cat <&3"))?.stdout ?? ""
            return reply.contains("hello from web")
        }
        #expect(served, "the guest answers through 192.0.2.1:8080")

        // systemd's own rating of the unit's exposure (0 is best, 10 worst).
        let security = try host.run("systemd-analyze", "security", "--no-pager", Self.unit).stdout
        let score = security.split(separator: "\n").last { $0.contains("Overall exposure level") }
            .flatMap { line in line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) } }
        #expect(score != nil && score! <= 2.0, "systemd-analyze security: \(security.split(separator: "\n").suffix(3).joined(separator: "\n"))")
        print("systemd-analyze security \(Self.unit): \(score ?? -1)")

        // The VM leaves the manifests: the power button, the guest writes its marker and powers off.
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests(withGuest: nil))
        let stopped = try apply(host)
        #expect(stopped.status == 0, "\(stopped.stdout)\(stopped.stderr)")
        #expect(stopped.stdout.contains("stopped web: the guest shut down cleanly"), "\(stopped.stdout)")
        #expect(host.read(Self.disk).hasPrefix("MVM-POWERDOWN web"), "the guest's disk holds its shutdown marker")
        // The unit's output (here the stop command's line) is in the journal with the VM's name as a field.
        let journal = try host.run("journalctl", "--no-pager", "-o", "cat", "MOORING_VM=web").stdout
        #expect(journal.contains("mooring stop-vm: the guest shut down cleanly"), "\(journal)")
    }

    /// A macvtap reaches the VMM through `exec-vm`, which opens it as root and then becomes its VM's user: the
    /// VMM itself holds no capability, and the guest answers on the parent's segment.
    @Test func aMacvtapGuestRunsUnprivilegedToo() throws {
        let host = try host()
        let peer = try host.run("sh", "-c", """
            ip link add mv0 type veth peer name mvpeer && ip link set mv0 up && ip netns add peer &&
            ip link set mvpeer netns peer && ip -n peer addr add 10.40.0.1/24 dev mvpeer && ip -n peer link set mvpeer up
            """)
        #expect(peer.status == 0, "\(peer.stderr)")
        try host.write("/etc/mooring/manifests/host.yaml", [Manifests.tcgHost, PID1Host.guestManifest(
            "web", interface: "{guestDeviceName: eth0, type: macvtap, parentInterface: mv0, address: 10.40.0.20/24}")].joined(separator: "---\n"))
        let applied = try apply(host)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(booted(host), "the guest booted: \(host.read("/run/mooring/vms/web/vmm/console.log").suffix(400))")
        let pid = try host.unit(Self.unit, "MainPID")["MainPID"] ?? "0"
        let status = host.read("/proc/\(pid)/status")
        #expect(status.contains("CapEff:\t0000000000000000") && status.contains("CapPrm:\t0000000000000000"), "\(status)")
        let owner = try host.run("ps", "-o", "user=", "-p", pid).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(owner == "vm-web", "the VMM runs as \(owner)")
        let served = eventually(timeout: 30) {
            let reply = (try? host.run("ip", "netns", "exec", "peer", "bash", "-c",
                                       "exec 3<>/dev/tcp/10.40.0.20/80; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; timeout 5 cat <&3"))?.stdout ?? ""
            return reply.contains("hello from web")
        }
        #expect(served, "the guest answers on the macvtap's segment")
    }

    @Test func aGuestThatIgnoresThePowerButtonIsTerminatedAfterItsTimeout() throws {
        let host = try host()
        try host.openTunToAll()
        try host.write("/etc/mooring/manifests/host.yaml",
                       Self.manifests(withGuest: Self.guest(kernelCmdline: "mooring_test.ignore_power", stopTimeout: 2)))
        let applied = try apply(host)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(booted(host), "the guest booted: \(host.read("/run/mooring/vms/web/vmm/console.log").suffix(400))")

        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests(withGuest: nil))
        let stopped = try apply(host)
        #expect(stopped.status == 0, "\(stopped.stdout)\(stopped.stderr)")
        #expect(stopped.stdout.contains("stopped web: forced: the guest did not power off within 2 s"), "\(stopped.stdout)")
        #expect(!host.read(Self.disk).hasPrefix("MVM-POWERDOWN"), "the guest never shut down")
        #expect(try host.run("systemctl", "is-active", Self.unit).stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "active")
    }

    /// The files a VM uses are bound into its sandbox wherever they live: a kernel in a home directory only its
    /// owner may enter (ProtectHome=tmpfs) and an initrd under /tmp (PrivateTmp) boot the guest; the VMM sees
    /// those two files there and nothing else of either tree.
    @Test func aGuestBootsFromFilesInAHomeDirectoryAndUnderTmp() throws {
        let host = try host()
        try host.openTunToAll()
        #expect(try host.run("sh", "-c", """
            mkdir -p /home/op/guest /tmp/guest && chmod 700 /home/op && echo secret > /home/op/notes \
            && cp /var/lib/mooring-test/vmlinux /home/op/guest/ && cp /var/lib/mooring-test/initrd.cpio.gz /tmp/guest/ \
            && chmod 644 /home/op/guest/vmlinux /tmp/guest/initrd.cpio.gz
            """).status == 0)
        let guest = Self.guest().replacingOccurrences(of: "/var/lib/mooring-test/vmlinux", with: "/home/op/guest/vmlinux")
            .replacingOccurrences(of: "/var/lib/mooring-test/initrd.cpio.gz", with: "/tmp/guest/initrd.cpio.gz")
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests(withGuest: guest))
        let applied = try apply(host)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(booted(host), "the guest booted: \(host.read("/run/mooring/vms/web/vmm/console.log").suffix(400))")
        let binds = try host.unit(Self.unit, "BindReadOnlyPaths")["BindReadOnlyPaths"] ?? ""
        #expect(binds.contains("/home/op/guest/vmlinux") && binds.contains("/tmp/guest/initrd.cpio.gz"), "\(binds)")
        // In the VMM's mount namespace: the two files, and nothing else of the home directory.
        let pid = try host.unit(Self.unit, "MainPID")["MainPID"] ?? "0"
        let inside = try host.run("nsenter", "-t", pid, "-m", "sh", "-c", "ls -A /home/op; ls -A /home/op/guest; ls -A /tmp/guest").stdout
        #expect(!inside.contains("notes") && inside.contains("vmlinux") && inside.contains("initrd.cpio.gz"), "\(inside)")
    }

    /// Removing the package stops its MicroVMs through their stop ladder while `mooring stop-vm` still exists
    /// (after removal their ExecStop could not run: systemd would only kill the VMM): the guest powers off cleanly,
    /// nothing is left failed.
    @Test func removingThePackageStopsItsVMsGracefully() throws {
        let host = try hostWithABootedGuest()
        let removed = try host.run("dpkg", "-r", "mooring")
        #expect(removed.status == 0, "\(removed.stdout)\(removed.stderr)")
        #expect(host.read(Self.disk).hasPrefix("MVM-POWERDOWN"), "the guest shut down through its power button")
        let state = try host.run("systemctl", "is-active", Self.unit).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(state == "inactive" || state == "unknown", "\(state)")
        #expect(try host.run("systemctl", "--failed", "--no-legend").stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    /// An upgrade, as apt does it: build N runs two MicroVMs, the package of a newer version (build N+1: the same
    /// package with a higher version, so dpkg runs the upgrade path of the maintainer scripts: prerm upgrade,
    /// postinst configure) is installed, and mooring applies: no VM restarts, and a probe of each guest every
    /// 0.2 s from the host's side of the bridge loses nothing throughout.
    @Test func anUpgradeOfThePackageRestartsNoVMAndLosesNoTraffic() throws {
        let host = try host()
        try host.openTunToAll()
        let second = PID1Host.guestManifest("db", interface: "{guestDeviceName: eth0, type: tap, bridge: br0, address: 10.0.0.11/24}")
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests(withGuest: Self.guest()) + "---\n" + second)
        let applied = try apply(host)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(booted(host), "the guest booted: \(host.read("/run/mooring/vms/web/vmm/console.log").suffix(400))")
        #expect(eventually(timeout: 90) { host.read("/run/mooring/vms/db/vmm/console.log").contains("MVM-READY") })
        let units = ["mooring-vm-web.service", "mooring-vm-db.service"]
        let before = try units.map { try host.unit($0, "MainPID")["MainPID"] }

        // Build N+1: the package with a higher version.
        let package = try #require(TestEnvironment.debianPackage)
        let work = try ManifestDirectory()
        try Shell.must("dpkg-deb", "-R", package, work.path + "/next")
        let control = work.path + "/next/DEBIAN/control"
        let text = try String(contentsOfFile: control, encoding: .utf8)
        let version = try #require(text.split(separator: "\n").first { $0.hasPrefix("Version: ") }).dropFirst("Version: ".count)
        try text.replacingOccurrences(of: "Version: \(version)\n", with: "Version: \(version).1\n").write(toFile: control, atomically: true, encoding: .utf8)
        try Shell.must("dpkg-deb", "--root-owner-group", "-b", work.path + "/next", host.root + "/root/mooring-next.deb")

        // The probe: from the container's network namespace (the host's side of the bridge), each guest every 0.2 s.
        let leader = try String(contentsOfFile: "/run/mooring-pid1/\(host.name)/leader", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let log = work.path + "/probe.log"
        let probe = try BackgroundProcess(["nsenter", "-t", leader, "-n", "sh", "-c", """
            while :; do for ip in 10.0.0.10 10.0.0.11; do
              if curl -s -m 1 -o /dev/null http://$ip/; then echo "ok $ip"; else echo "lost $ip"; fi
            done; sleep 0.2; done
            """], output: log)
        #expect(eventually(timeout: 10) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("ok 10.0.0.11") })
        let upgraded = try host.run("dpkg", "-i", "/root/mooring-next.deb")
        #expect(upgraded.status == 0, "\(upgraded.stdout)\(upgraded.stderr)")
        #expect(try host.run("dpkg-query", "-W", "-f", "${Version}", "mooring").stdout == "\(version).1")
        let again = try apply(host)
        #expect(again.status == 0 && !again.stdout.contains("restart"), "\(again.stdout)\(again.stderr)")
        _ = probe.terminate()
        let probes = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(probes.filter { $0.hasPrefix("ok") }.count >= 4 && !probes.contains { $0.hasPrefix("lost") }, "\(probes)")
        #expect(try units.map { try host.unit($0, "MainPID")["MainPID"] } == before, "both VMMs kept running")
    }
}
