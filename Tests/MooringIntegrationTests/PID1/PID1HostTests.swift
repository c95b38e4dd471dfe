import Foundation
import Testing

/// mooring as it ships, on a real host: the Debian package installed with dpkg into a Debian 12 booted with
/// systemd as PID 1 (scripts/pid1bed), its units run by the system manager over the system bus, no `--user`.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPID1Bed, TestEnvironment.pid1BedReason))
struct PID1HostTests {
    static let manifests = [
        Manifests.bridge("up0", addresses: ["192.0.2.1/24"]),
        Manifests.bridge("br0", addresses: ["10.0.0.1/24"]),
        Manifests.microVM("web", bridge: "br0", extraInterfaceFields: ", address: 10.0.0.10/24"),
        Manifests.header + """
            kind: NAT
            metadata: {name: edge}
            spec: {externalInterface: up0, internalInterfaces: [br0], forwardPorts: [{proto: tcp, sourcePort: 8080, destination: "10.0.0.10:80"}]}

            """,
    ].joined(separator: "---\n")

    private func installed() throws -> PID1Host {
        let host = try PID1Host("p1")
        let install = try host.installPackage()
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        try host.openTunToAll()
        return host
    }

    /// Everything mooring declared is there: links with their addresses and the NAT table.
    private func converged(_ host: PID1Host) throws -> Bool {
        let links = try host.run("ip", "-br", "addr").stdout
        let table = try host.run("nft", "list", "table", "inet", "mooring").stdout
        return links.contains("br0") && links.contains("10.0.0.1/24") && links.contains("vm-web-eth0")
            && links.contains("192.0.2.1/24") && table.contains("fwd4_addr")
    }

    @Test func thePackageInstallsAndStartsNothing() throws {
        let host = try installed()
        let version = try host.run("mooring", "--version")
        #expect(version.status == 0 && version.stdout.hasPrefix("mooring "), "\(version.stdout)\(version.stderr)")
        #expect(!(try host.run("ldd", "/usr/bin/mooring").stdout.contains("not found")), "every library the binary links is installed")
        #expect(try host.run("stat", "-c", "%U %a", "/etc/mooring/manifests").stdout == "root 755\n")
        for page in ["mooring.1.gz", "mooring-apply.1.gz", "mooring-plan.1.gz"] {
            #expect(try host.run("test", "-s", "/usr/share/man/man1/\(page)").status == 0, "man page \(page)")
        }
        #expect(try host.run("test", "-s", "/usr/share/bash-completion/completions/mooring").status == 0)
        let units = try host.run("systemctl", "list-unit-files", "mooring*", "--no-legend", "--no-pager").stdout
        for unit in ["mooring.service", "mooring-boot.service", "mooring-apply.timer", "mooring-drift.timer", "mooring-gitops.timer"] {
            #expect(units.contains(unit), "\(unit) is installed: \(units)")
        }
        #expect(try host.unit("mooring.service", "ActiveState")["ActiveState"] == "inactive", "installing starts nothing")
        #expect(try host.run("ip", "-br", "link").stdout.split(separator: "\n").count == 1, "installing changes no link")
        #expect(try host.run("dpkg", "-r", "mooring").status == 0)
        #expect(try host.run("test", "-e", "/usr/bin/mooring").status != 0)
    }

    /// A MicroVM whose VMM runs as a unit of the real system manager. The VMM here is a stand-in (`sleep`):
    /// what is tested is the unit mooring asks systemd for over the system bus, not a guest.
    static let microVM = """
        apiVersion: mooring.dev/v1alpha1
        kind: MicroVM
        metadata: {name: api}
        spec:
          vcpu: 1
          memoryMb: 128
          vmm: qemu-microvm
          kernel: /var/lib/mooring-test/vmlinux
          networkInterfaces: [{guestDeviceName: eth0, type: tap, bridge: br0, address: 10.0.0.11/24}]

        """

    private func standInVMM(_ host: PID1Host) throws {
        try host.write("/usr/local/bin/qemu-system-x86_64", "#!/bin/sh\nexec sleep infinity\n")
        try host.write("/var/lib/mooring-test/vmlinux", "not a kernel: the stand-in VMM never reads it\n")
        #expect(try host.run("chmod", "0755", "/usr/local/bin/qemu-system-x86_64").status == 0)
    }

    private func microVMRunning(_ host: PID1Host) throws -> Bool {
        let unit = try host.unit("mooring-vm-api.service", "ActiveState", "SubState")
        return unit["ActiveState"] == "active" && unit["SubState"] == "running"
    }

    /// The boot unit converges before network-online.target, after every reboot, with no timer involved:
    /// links, addresses, the NAT table, and the MicroVM's unit on the system manager.
    @Test func aRebootBringsEveryDeclaredObjectBack() throws {
        let host = try installed()
        try standInVMM(host)
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests)
        try host.write("/etc/mooring/manifests/vm.yaml", Self.microVM)
        let enabled = try host.run("systemctl", "enable", "--now", "mooring-boot.service")
        let journal = try host.run("journalctl", "-u", "mooring-boot", "--no-pager").stdout
        #expect(enabled.status == 0, "\(enabled.stderr) \(journal)")
        #expect(try converged(host))
        #expect(try microVMRunning(host), "the MicroVM's unit runs on the system manager")
        let seconds = try host.reboot()
        #expect(try converged(host), "after a reboot the links, addresses and the NAT table are back")
        #expect(try microVMRunning(host), "after a reboot the MicroVM's unit is back")
        let order = try host.run("systemctl", "show", "mooring-boot.service", "-p", "Before", "--value").stdout
        #expect(order.contains("network-online.target"), "\(order)")
        let took = try host.run("systemctl", "show", "mooring-boot.service", "-p", "ExecMainStartTimestampMonotonic",
                                "-p", "ExecMainExitTimestampMonotonic", "--value").stdout.split(separator: "\n").compactMap { Double($0) }
        print("pid1: reboot to running in \(seconds) s; mooring-boot converged in \(took.count == 2 ? (took[1] - took[0]) / 1000 : -1) ms")
    }

    /// `mooring.service` is Type=notify: active only once the first round ran, STATUS= says what it did, the
    /// watchdog restarts a mooring that hangs, and SIGTERM (systemctl stop) ends it cleanly.
    @Test func theWatchServiceNotifiesAndTheWatchdogRestartsAHungLoop() throws {
        let host = try installed()
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests)
        // A shorter watchdog than the shipped 2 min, so the test waits seconds.
        try host.write("/etc/systemd/system/mooring.service.d/test.conf", "[Service]\nWatchdogSec=3s\nRestartSec=1s\n")
        #expect(try host.run("systemctl", "daemon-reload").status == 0)
        #expect(try host.run("systemctl", "start", "mooring.service").status == 0)
        // `systemctl start` of a notify service returns at READY=1: the first round is done by then.
        #expect(try converged(host), "READY=1 came before the first reconcile finished")
        let started = try host.unit("mooring.service", "ActiveState", "StatusText", "MainPID")
        #expect(started["ActiveState"] == "active")
        #expect(started["StatusText"]?.contains("in sync") == true, "\(started)")
        let pid = try #require(started["MainPID"])
        // `systemctl reload` (ExecReload= sends SIGHUP): a round now, the same process goes on.
        #expect(try host.run("systemctl", "reload", "mooring.service").status == 0)
        #expect(try eventually(timeout: 10) { try host.run("journalctl", "-u", "mooring.service", "--no-pager").stdout.contains("reloading on SIGHUP") })
        #expect(try host.unit("mooring.service", "MainPID", "ActiveState") == ["MainPID": pid, "ActiveState": "active"])

        #expect(try host.run("kill", "-STOP", pid).status == 0)
        #expect(try eventually(timeout: 20) {
            let now = try host.unit("mooring.service", "MainPID", "NRestarts", "ActiveState")
            return now["NRestarts"] == "1" && now["ActiveState"] == "active" && now["MainPID"] != pid
        }, "the watchdog restarted the frozen loop")
        #expect(try host.run("journalctl", "-u", "mooring.service", "--no-pager").stdout.contains("Watchdog timeout"))

        #expect(try host.run("systemctl", "stop", "mooring.service").status == 0)
        let stopped = try host.unit("mooring.service", "ActiveState", "Result", "ExecMainStatus")
        #expect(stopped["Result"] == "success" && stopped["ExecMainStatus"] == "0", "SIGTERM stops it cleanly: \(stopped)")
    }

    /// The shipped timers fire their services under the real manager (a drop-in makes them fire within a second, without their random spread).
    @Test func theApplyAndDriftTimersFire() throws {
        let host = try installed()
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests)
        // Two files: they are parsed on threads of their own (libdispatch's workers logged thread-priority
        // failures under the units' capabilities).
        try host.write("/etc/mooring/manifests/extra.yaml", Manifests.bridge("extra0"))
        for timer in ["mooring-apply.timer", "mooring-drift.timer"] {
            try host.write("/etc/systemd/system/\(timer).d/test.conf", "[Timer]\nOnActiveSec=1s\nAccuracySec=1ms\nRandomizedDelaySec=0\n")
        }
        #expect(try host.run("systemctl", "daemon-reload").status == 0)
        #expect(try host.run("systemctl", "start", "mooring-apply.timer").status == 0)
        #expect(try eventually(timeout: 20) { try converged(host) }, "the apply timer ran mooring-apply.service")
        #expect(try host.unit("mooring-apply.service", "Result")["Result"] == "success")
        // The journal stays clean: nothing but mooring's own lines.
        let journal = try host.run("journalctl", "-u", "mooring-apply.service", "--no-pager", "-o", "cat").stdout
        #expect(!journal.contains("thread priority"), "\(journal)")
        // Drift, then the drift timer: its service fails with exit 2, for OnFailure= to act on.
        #expect(try host.run("ip", "link", "del", "vm-web-eth0").status == 0)
        #expect(try host.run("systemctl", "start", "mooring-drift.timer").status == 0)
        #expect(try eventually(timeout: 20) {
            try host.unit("mooring-drift.service", "ExecMainStatus", "ActiveState") == ["ExecMainStatus": "2", "ActiveState": "failed"]
        }, "the drift timer ran the check and it failed on drift")
    }

    /// GitOps as shipped: the pull unit (no capabilities, no netlink) takes a fast-forward from the upstream and
    /// the apply unit it starts on success makes the host match; a rewritten upstream fails the pull, so the
    /// apply never runs and the host keeps what it had.
    @Test func theGitOpsPullStartsTheApplyAndARewrittenHistoryAppliesNothing() throws {
        let host = try installed()
        let git = ["git", "-c", "user.name=ops", "-c", "user.email=ops@example.invalid"]
        func run(_ arguments: [String]) throws {
            let result = try Shell.run([PID1Host.script, "exec", host.name] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stdout)\(result.stderr)")
        }
        try run(["git", "init", "-q", "--bare", "-b", "main", "/srv/hosts.git"])
        try run(["git", "clone", "-q", "/srv/hosts.git", "/srv/work"])
        try host.write("/srv/work/host.yaml", Self.manifests)
        try run(git + ["-C", "/srv/work", "add", "host.yaml"])
        try run(git + ["-C", "/srv/work", "commit", "-q", "-m", "the host"])
        try run(["git", "-C", "/srv/work", "push", "-q", "origin", "main"])
        try run(["git", "clone", "-q", "/srv/hosts.git", "/etc/mooring/manifests"])

        #expect(try host.run("systemctl", "start", "mooring-gitops.service").status == 0)
        #expect(try eventually(timeout: 30) { try converged(host) }, "the pull's success started mooring-apply.service")
        #expect(try eventually(timeout: 30) { try host.unit("mooring-apply.service", "ActiveState", "Result") == ["ActiveState": "inactive", "Result": "success"] })
        let applied = try host.unit("mooring-apply.service", "ExecMainStartTimestampMonotonic")

        // The upstream is rewritten (a force-push) to a history that adds a bridge: refused, nothing applied.
        try host.write("/srv/work/extra.yaml", Manifests.bridge("br9", addresses: ["10.9.0.1/24"]))
        try run(git + ["-C", "/srv/work", "add", "extra.yaml"])
        try run(git + ["-C", "/srv/work", "commit", "-q", "--amend", "-m", "rewritten"])
        try run(["git", "-C", "/srv/work", "push", "-q", "--force", "origin", "main"])
        #expect(try host.run("systemctl", "start", "mooring-gitops.service").status != 0)
        let pull = try host.unit("mooring-gitops.service", "ActiveState", "ExecMainStatus")
        #expect(pull == ["ActiveState": "failed", "ExecMainStatus": "1"], "\(pull)")
        #expect(try host.run("journalctl", "-u", "mooring-gitops.service", "--no-pager").stdout.contains("was rewritten (a force-push)"))
        #expect(try host.unit("mooring-apply.service", "ExecMainStartTimestampMonotonic") == applied, "no apply after a refused pull")
        #expect(!(try host.run("ip", "-br", "link").stdout.contains("br9")))
    }

    /// The drift check fails its unit (for OnFailure=) when the host differs, and succeeds when in sync.
    @Test func theDriftUnitFailsOnDrift() throws {
        let host = try installed()
        try host.write("/etc/mooring/manifests/host.yaml", Self.manifests)
        #expect(try host.run("systemctl", "start", "mooring-apply.service").status == 0)
        #expect(try host.run("systemctl", "start", "mooring-drift.service").status == 0, "in sync: the drift check passes")
        #expect(try host.run("ip", "link", "del", "vm-web-eth0").status == 0)
        #expect(try host.run("systemctl", "start", "mooring-drift.service").status != 0)
        let failed = try host.unit("mooring-drift.service", "ActiveState", "ExecMainStatus")
        #expect(failed["ActiveState"] == "failed" && failed["ExecMainStatus"] == "2", "exit 2 on drift: \(failed)")
        // `systemctl status` reads as drift, beside the exit code's name.
        let status = try host.run("systemctl", "status", "mooring-drift.service", "--no-pager").stdout
        #expect(status.contains("Status: \"drift: ") && status.contains("create tap vm-web-eth0"), "\(status)")
        // Each difference is in the journal with its fields, for alerting on the object itself.
        let drift = try host.run("journalctl", "-u", "mooring-drift.service", "MOORING_RESOURCE=link/vm-web-eth0", "-o", "cat", "--no-pager").stdout
        #expect(drift.contains("drift: create tap vm-web-eth0"), "\(drift)")
        #expect(try host.run("systemctl", "start", "mooring-apply.service").status == 0)
        #expect(try host.run("systemctl", "start", "mooring-drift.service").status == 0)
    }

    /// A real guest: QEMU (TCG) started by mooring as a unit of the system manager inside the PID 1 host boots
    /// its kernel, and boots again after the host reboots, started by the boot unit.
    @Test(.enabled(if: TestEnvironment.guestDirectory != nil, "needs the test bed's guest image (scripts/testbed run)"))
    func aGuestBootsUnderTheSystemManagerAndAgainAfterAReboot() throws {
        let host = try installed()
        try host.installHostQEMU(guest: try #require(TestEnvironment.guestDirectory))
        let guest = PID1Host.guestManifest("guest", interface: "{guestDeviceName: eth0, type: tap, bridge: br0, address: 10.0.0.10/24}")
        try host.write("/etc/mooring/manifests/host.yaml",
                       [Manifests.tcgHost, Manifests.bridge("br0", addresses: ["10.0.0.1/24"]), guest].joined(separator: "---\n"))
        let console = "/run/mooring/vms/guest/vmm/console.log"
        let enabled = try host.run("systemctl", "enable", "--now", "mooring-boot.service")
        #expect(enabled.status == 0, "\(enabled.stderr)")
        #expect(eventually(timeout: 60) { host.read(console).contains("MVM-READY") }, "the guest booted: \(host.read(console).suffix(300))")
        _ = try host.reboot()
        #expect(eventually(timeout: 60) { host.read(console).contains("MVM-READY") },
                "the guest booted again after the reboot: \(host.read(console).suffix(300))")
    }
}
