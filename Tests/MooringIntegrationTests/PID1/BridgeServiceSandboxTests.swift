import Foundation
import Testing

/// A bridge's dnsmasq under the real system manager (scripts/pid1bed's tree has dnsmasq-base): the unit starts
/// and stays up inside the sandbox the system manager applies in full (ProtectHome, ProtectKernelTunables,
/// ProtectKernelLogs on top of what the user manager applies), serves DHCP and sends router advertisements by
/// its own words, and goes when the fields do.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPID1Bed, TestEnvironment.pid1BedReason))
struct BridgeServiceSandboxTests {
    @Test func dnsmasqRunsSandboxedUnderTheSystemManager() throws {
        let host = try PID1Host("bsv")
        let install = try host.installPackage()
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        let served = Manifests.bridge("br0", addresses: ["10.40.0.1/24", "\"fd40::1/64\""], extra: "  dhcpServer: true\n  ipv6SendRA: true\n")
        try host.write("/etc/mooring/manifests/m.yaml", served)
        let applied = try host.run("mooring", "apply", "-f", "/etc/mooring/manifests")
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let unit = "mooring-bridge-br0.service"
        #expect(try host.run("systemctl", "is-active", unit).stdout == "active\n")
        // dnsmasq says what it serves, in the journal (its own words).
        var journal = ""
        #expect(eventually(timeout: 20) {
            journal = (try? host.run("journalctl", "-u", unit, "--no-pager", "-o", "cat").stdout) ?? ""
            return journal.contains("DHCP, static leases only on 10.40.0.0") && journal.contains("RTR-ADVERT(br0) fd40::")
        }, "\(journal)")
        let properties = try host.unit(unit, "ProtectSystem", "ProtectHome", "ProtectKernelTunables", "NoNewPrivileges", "CapabilityBoundingSet")
        #expect(properties["ProtectSystem"] == "strict" && properties["ProtectHome"] == "yes" && properties["NoNewPrivileges"] == "yes", "\(properties)")
        #expect(properties["CapabilityBoundingSet"]?.contains("cap_sys_admin") == false, "\(properties)")
        #expect(try host.run("mooring", "plan", "-f", "/etc/mooring/manifests").status == 0, "in sync")

        try host.write("/etc/mooring/manifests/m.yaml", Manifests.bridge("br0", addresses: ["10.40.0.1/24", "\"fd40::1/64\""]))
        #expect(try host.run("mooring", "apply", "-f", "/etc/mooring/manifests").status == 0)
        #expect(try host.run("systemctl", "is-active", unit).stdout != "active\n")
    }
}
