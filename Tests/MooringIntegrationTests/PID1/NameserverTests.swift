import Foundation
import Testing

/// DNS for a bridge through the real systemd-resolved of a PID 1 host (scripts/pid1bed installs it): set,
/// repaired after drift, forgotten when no longer declared, and nothing but a clear word when resolved is not
/// there. /etc/resolv.conf is never written.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPID1Bed, TestEnvironment.pid1BedReason))
struct NameserverTests {
    static func manifest(_ extra: String) -> String {
        Manifests.bridge("br0", addresses: ["192.0.2.10/24"], extra: extra)
    }

    @Test func aBridgesDNSGoesThroughResolved() throws {
        let host = try PID1Host("dns")
        let install = try host.installPackage()
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        #expect(try host.run("systemctl", "is-active", "systemd-resolved").stdout == "active\n", "the test host runs resolved")
        let resolvConf = try host.run("readlink", "/etc/resolv.conf").stdout
        func apply() throws -> Shell.Output { try host.run("mooring", "apply", "-f", "/etc/mooring/manifests") }
        func plan() throws -> Shell.Output { try host.run("mooring", "plan", "-f", "/etc/mooring/manifests") }

        try host.write("/etc/mooring/manifests/m.yaml", Self.manifest("  nameservers: {addresses: [192.0.2.53, \"2001:db8::53\"], search: [lan, example.com]}\n"))
        let applied = try apply()
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("bridge br0: set DNS 192.0.2.53, 2001:db8::53 search lan, example.com"), "\(applied.stdout)")
        #expect(try host.run("resolvectl", "dns", "br0").stdout.contains("192.0.2.53 2001:db8::53"))
        #expect(try host.run("resolvectl", "domain", "br0").stdout.contains("lan example.com"))
        #expect(try plan().status == 0, "in sync after the apply")

        // Someone (or a resolved restart) drops it: drift, repaired.
        #expect(try host.run("resolvectl", "revert", "br0").status == 0)
        let drift = try plan()
        #expect(drift.status == 2 && drift.stdout.contains("set DNS 192.0.2.53"), "\(drift.stdout)")
        #expect(try apply().status == 0)
        #expect(try host.run("resolvectl", "dns", "br0").stdout.contains("192.0.2.53"))

        // No longer declared: forgotten.
        try host.write("/etc/mooring/manifests/m.yaml", Self.manifest(""))
        let cleared = try apply()
        #expect(cleared.status == 0 && cleared.stdout.contains("bridge br0: set DNS none"), "\(cleared.stdout)\(cleared.stderr)")
        #expect(!(try host.run("resolvectl", "dns", "br0").stdout.contains("192.0.2.53")))

        // Without resolved: the plan says so, nothing is changed, resolv.conf is left alone.
        #expect(try host.run("systemctl", "mask", "--now", "systemd-resolved").status == 0)
        try host.write("/etc/mooring/manifests/m.yaml", Self.manifest("  nameservers: {addresses: [192.0.2.53]}\n"))
        let without = try plan()
        #expect(without.status == 3, "not everything could be checked: \(without.stdout)\(without.stderr)")
        #expect(without.stdout.contains("DNS of br0 (spec.nameservers): systemd-resolved"), "\(without.stdout)")
        #expect(without.stdout.contains("never edits /etc/resolv.conf"), "\(without.stdout)")
        #expect(try host.run("readlink", "/etc/resolv.conf").stdout == resolvConf)
    }
}
