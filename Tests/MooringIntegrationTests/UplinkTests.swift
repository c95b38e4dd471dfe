import Foundation
import MooringModel
import Testing

/// The seeds' simple network (microvm.nix "A simple network setup"): the host's own uplink goes into a bridge,
/// which takes over its address and default route, and the VMs sit on the LAN. Built for real: a "LAN"
/// namespace with a router (192.0.2.1) and a client (192.0.2.50), and the host namespace whose uplink carries
/// 192.0.2.10/24 and the default route.
@Suite(.serialized, .enabled(if: TestEnvironment.hasTestbed, TestEnvironment.testbedReason))
struct UplinkTests {
    static let manifests = Manifests.tcgHost + "---\n" + Manifests.bridge("br0", addresses: ["192.0.2.10/24", "2001:db8::a/64"], ports: ["eno1"],
                                                                           extra: "  gateways: [192.0.2.1, 2001:db8::1]\n")

    static let beyondGateway = "10.99.0.1"

    /// The LAN: a bridge with the router's address, the client on a veth, the host's uplink on another.
    private func lan(host: TestNamespace) throws -> (lan: TestNamespace, client: TestNamespace) {
        let lan = try TestNamespace("lan")
        let client = try TestNamespace("lcl")
        try lan.ip("link", "add", "lan0", "type", "bridge")
        try lan.ip("addr", "add", "192.0.2.1/24", "dev", "lan0")
        try lan.ip("addr", "add", "2001:db8::1/64", "dev", "lan0", "nodad")
        try lan.ip("link", "set", "lan0", "up")
        try lan.ip("link", "add", "to-host", "type", "veth", "peer", "name", "eno1", "netns", host.name)
        try lan.ip("link", "add", "to-client", "type", "veth", "peer", "name", "eth0", "netns", client.name)
        for port in ["to-host", "to-client"] {
            try lan.ip("link", "set", port, "master", "lan0")
            try lan.ip("link", "set", port, "up")
        }
        // Something beyond the gateway, for probes: only a working default route reaches it.
        try lan.ip("addr", "add", "\(Self.beyondGateway)/32", "dev", "lo")
        try lan.ip("link", "set", "lo", "up")
        try client.ip("addr", "add", "192.0.2.50/24", "dev", "eth0")
        try client.ip("link", "set", "eth0", "up")
        try host.ip("addr", "add", "192.0.2.10/24", "dev", "eno1")
        try host.ip("link", "set", "eno1", "up")
        try host.ip("addr", "add", "2001:db8::a/64", "dev", "eno1", "nodad")
        try host.ip("route", "add", "default", "via", "192.0.2.1", "dev", "eno1")
        try host.ip("-6", "route", "add", "default", "via", "2001:db8::1", "dev", "eno1")
        return (lan, client)
    }

    /// A route mooring did not declare, on another link: it must be left exactly as it is.
    private func addUndeclaredRoute(_ host: TestNamespace) throws {
        try host.addHostInterface("other0")
        try host.ip("addr", "add", "203.0.113.1/24", "dev", "other0")
        try host.ip("link", "set", "other0", "up")
        try host.ip("route", "add", "198.51.100.0/24", "via", "203.0.113.2", "dev", "other0")
    }

    /// Whether `address` answers from `namespace` (a closed port is refused at once by a reachable host).
    private func answers(_ namespace: TestNamespace, _ address: String) throws -> Bool {
        try namespace.exec("timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/\(address)/9").stderr.contains("Connection refused")
    }

    @Test func theUplinkMovesIntoTheBridgeAndTheHostStaysReachable() throws {
        let harness = try Harness("up", userBus: true)
        defer { harness.tearDown() }
        let (lan, client) = try lan(host: harness.ns)
        _ = lan
        try addUndeclaredRoute(harness.ns)
        #expect(try answers(client, "192.0.2.10"), "reachable before")

        try harness.manifests.write("m.yaml", Self.manifests)
        let plan = try harness.plan()
        #expect(plan.conflicts.isEmpty, "\(plan.conflicts.map(\.message))")
        let move = ["port eno1: move address 192.0.2.10/24 to bridge br0", "port eno1: move address 2001:db8::a/64 to bridge br0",
                    "port eno1: delete route default via 192.0.2.1 proto boot (bridge br0 takes it over)",
                    "port eno1: delete route default via 2001:db8::1 metric 1024 proto boot (bridge br0 takes it over)"]
        #expect(move.allSatisfy(plan.summaries.contains), "\(plan.summaries)")
        #expect(plan.summaries.contains("bridge br0: add route default via 192.0.2.1"))

        // The client probes the host every 10 ms while the apply runs, from one process (no fork per probe, so a
        // loaded machine slows the probing, not the host): a connection refused is an answer, a timeout or an
        // unreachable route is not. An outage is the time from the last answer before a failed probe to the next
        // answer; a stretch where the prober itself did not run (no probe at all) is no outage.
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("probe-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let prober = Process()
        prober.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        prober.arguments = ["ip", "netns", "exec", client.name, "python3", "-u", "-c", """
            import socket, sys, time
            log = open(sys.argv[1], "w", buffering=1)
            while True:
                s = socket.socket()
                s.settimeout(0.5)
                try:
                    s.connect(("192.0.2.10", 9))
                    answered = True
                except ConnectionRefusedError:
                    answered = True
                except OSError:
                    answered = False
                s.close()
                log.write("%s %.6f\\n" % ("ok" if answered else "fail", time.monotonic()))
                time.sleep(0.01)
            """, log]
        try prober.run()
        defer { if prober.isRunning { kill(prober.processIdentifier, SIGKILL) } }
        func probes() -> [(answered: Bool, at: Double)] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count == 2, let at = Double(fields[1]) else { return nil }
                return (fields[0] == "ok", at)
            }
        }
        #expect(eventually(timeout: 5) { probes().filter(\.answered).count > 3 }, "the prober sees the host before the apply")
        let applied = try harness.cli("apply")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        // A few answers after the apply close the last interval.
        let atEnd = probes().filter(\.answered).count
        #expect(eventually(timeout: 5) { probes().filter(\.answered).count > atEnd + 3 }, "the host answers after the apply")
        kill(prober.processIdentifier, SIGKILL)
        prober.waitUntilExit()
        var outage = 0.0, longest = 0.0
        var lastAnswer: Double?, failedSince = false
        for probe in probes() {
            if probe.answered {
                if let last = lastAnswer {
                    longest = max(longest, probe.at - last)
                    if failedSince { outage = max(outage, probe.at - last) }
                }
                lastAnswer = probe.at
                failedSince = false
            } else if lastAnswer != nil {
                failedSince = true
            }
        }
        print("uplink move: the longest outage (failed probes between answers) was \(Int(outage * 1000)) ms; "
              + "the longest interval between answers \(Int(longest * 1000)) ms (\(probes().count) probes)")
        #expect(longest > 0 && outage < 1.0, "the host stayed reachable, but for \(outage) s")

        // Where things are now: the address and the default route on the bridge, the port enslaved and bare.
        #expect(try harness.ns.addresses("br0").contains("192.0.2.10/24"))
        #expect(try harness.ns.addresses("eno1").isEmpty)
        let routes = try harness.ns.ip("route", "show", "default")
        #expect(routes.contains("default via 192.0.2.1 dev br0 proto 193"), "\(routes)")
        let routes6 = try harness.ns.ip("-6", "route", "show", "default")
        #expect(routes6.contains("default via 2001:db8::1 dev br0 proto 193 metric 1024"), "\(routes6)")
        #expect(try harness.ns.addresses("br0") == ["192.0.2.10/24", "2001:db8::a/64"] as Set)
        #expect(try answers(harness.ns, "2001:db8::1"), "the host reaches the router over IPv6 through the bridge")
        #expect(try harness.ns.ip("route", "show", "198.51.100.0/24").contains("via 203.0.113.2 dev other0"), "untouched")
        #expect(try answers(client, "192.0.2.10"), "reachable after")
        #expect(try answers(harness.ns, "192.0.2.1"), "the host reaches the router through the bridge")
        #expect(try harness.plan().isInSync)

        // A MicroVM's tap on the bridge sits on the LAN: its guest reaches the router directly.
        try harness.manifests.write("vm.yaml", Manifests.bootableVM("lanvm", interfaces: ["{guestDeviceName: eth0, type: tap, bridge: br0, address: 192.0.2.20/24}"]))
        #expect(try harness.apply().converged)
        let reached = eventually(timeout: 90) {
            let reply = (try? Shell.run(["ip", "netns", "exec", client.name, "curl", "-s", "-m", "2", "http://192.0.2.20/cgi-bin/ping?192.0.2.1"]))?.stdout ?? ""
            return reply.contains("reachable 192.0.2.1")
        }
        #expect(reached, "the guest on the bridge reaches the router")

        // A route removed from the manifest is removed; the undeclared one stays.
        try harness.manifests.write("m.yaml", Manifests.tcgHost + "---\n" + Manifests.bridge("br0", addresses: ["192.0.2.10/24", "2001:db8::a/64"], ports: ["eno1"]))
        // The guest's gateway was the LAN's router, the bridge's declared gateway; now it is the bridge: it restarts.
        let removal = try harness.plan()
        #expect(Array(removal.summaries.prefix(2)) == ["bridge br0: delete route default via 192.0.2.1", "bridge br0: delete route default via 2001:db8::1 metric 1024"],
                "\(removal.summaries)")
        #expect(removal.changes.dropFirst(2).allSatisfy { $0.resource == .unit("mooring-vm-lanvm.service") }, "\(removal.summaries)")
        #expect(try harness.apply().converged)
        #expect(try harness.ns.ip("route", "show", "198.51.100.0/24").contains("via 203.0.113.2 dev other0"))
    }

    /// `apply --try` on a remote host: a wrong gateway loses the probe and the host is put back by itself; without
    /// a confirmation the right one is put back too; `mooring confirm` keeps it.
    @Test func aTriedUplinkMoveIsPutBackUnlessConfirmed() throws {
        let harness = try Harness("try", userBus: true)
        defer { harness.tearDown() }
        let (lan, client) = try lan(host: harness.ns)
        _ = lan
        try addUndeclaredRoute(harness.ns)
        let routesBefore = try harness.ns.ip("route", "show")
        #expect(routesBefore.contains("default via 192.0.2.1 dev eno1"), "\(routesBefore)")
        let routes6Before = try harness.ns.ip("-6", "route", "show")
        func putBack() throws {
            #expect(try harness.ns.ip("route", "show") == routesBefore)
            #expect(try harness.ns.ip("-6", "route", "show") == routes6Before)
            #expect(try harness.ns.addresses("eno1") == ["192.0.2.10/24", "2001:db8::a/64"] as Set)
            #expect(try harness.ns.links()["br0"] == nil)
            #expect(try answers(client, "192.0.2.10"), "the host is reachable again")
        }

        // A gateway nobody answers for: the probe beyond it fails three rounds in a row and the host goes back.
        try harness.manifests.write("m.yaml", Manifests.tcgHost + "---\n" + Manifests.bridge(
            "br0", addresses: ["192.0.2.10/24", "2001:db8::a/64"], ports: ["eno1"], extra: "  gateways: [192.0.2.99, 2001:db8::1]\n"))
        let wrong = try harness.cli("apply", ["--try", "60s", "--probe", "ping:\(Self.beyondGateway)"])
        #expect(wrong.status == 4, "\(wrong.stdout)\(wrong.stderr)")
        #expect(wrong.stdout.contains("reverting: the probe failed 3 times in a row"), "\(wrong.stdout)")
        #expect(wrong.stdout.contains("the host is as it was before the apply"), "\(wrong.stdout)")
        try putBack()

        // The right gateway passes the probe, but nobody confirms: it is put back when the time is up.
        try harness.manifests.write("m.yaml", Self.manifests)
        let unconfirmed = try harness.cli("apply", ["--try", "2s", "--probe", "tcp:\(Self.beyondGateway):9"])
        #expect(unconfirmed.status == 4, "\(unconfirmed.stdout)\(unconfirmed.stderr)")
        #expect(unconfirmed.stdout.contains("reverting: no confirmation within 2 s"), "\(unconfirmed.stdout)")
        #expect(!unconfirmed.stdout.contains("probe failed"), "\(unconfirmed.stdout)")
        try putBack()

        // Confirmed from another process: kept.
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("try-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let trying = try BackgroundProcess([TestEnvironment.mooringBinary, "apply", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                            "--user", "--try", "5m", "--probe", "tcp:\(Self.beyondGateway):9"], output: log)
        defer { trying.stop() }
        #expect(eventually(timeout: 30) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Trying for 5m") },
                "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let confirmed = try TestEnvironment.mooring(["confirm", "--netns", harness.ns.name])
        #expect(confirmed.status == 0, "\(confirmed.stdout)\(confirmed.stderr)")
        #expect(confirmed.stdout.contains("Confirmed: process \(trying.processID) keeps the changes."), "\(confirmed.stdout)")
        #expect(trying.wait() == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Kept: confirmed by process"))
        #expect(try harness.ns.ip("route", "show", "default").contains("default via 192.0.2.1 dev br0 proto 193"))
        #expect(try answers(client, "192.0.2.10"))
        #expect(try harness.plan().isInSync)
        // Unattended: kept at the end because every probe round passed, with no confirmation (the router is on
        // the link, so it stays reachable without the default routes this change removes).
        try harness.manifests.write("m.yaml", Manifests.tcgHost + "---\n" + Manifests.bridge("br0", addresses: ["192.0.2.10/24", "2001:db8::a/64"], ports: ["eno1"]))
        let unattended = try harness.cli("apply", ["--try", "2s", "--probe", "ping:192.0.2.1", "--keep-if-probes-pass"])
        #expect(unattended.status == 0, "\(unattended.stdout)\(unattended.stderr)")
        #expect(unattended.stdout.contains("Kept: every probe round passed for 2 s"), "\(unattended.stdout)")
        #expect(try !harness.ns.ip("route", "show", "default").contains("192.0.2.1"))
        // Nothing is trying any more: nothing to confirm.
        let nothing = try TestEnvironment.mooring(["confirm", "--netns", harness.ns.name])
        #expect(nothing.status == 1 && nothing.stderr.contains("no `mooring apply --try` is running"), "\(nothing.stderr)")
    }
}
