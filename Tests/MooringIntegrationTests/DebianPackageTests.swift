import Foundation
import Testing

/// The Debian package as Debian's own tools judge it: lintian finds nothing (no error, no warning), and every man
/// page is indexed by whatis (lexgrog reads its NAME line).
@Suite(.enabled(if: TestEnvironment.debianPackage != nil, "needs the package: make deb"),
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian"), "needs lintian (scripts/install-deps)"))
struct DebianPackageTests {
    @Test func lintianFindsNothing() throws {
        let package = try #require(TestEnvironment.debianPackage)
        let result = try Shell.run(["lintian", "--tag-display-limit", "0", package])
        let tags = result.stdout.split(separator: "\n").filter { $0.hasPrefix("E:") || $0.hasPrefix("W:") }
        #expect(tags.isEmpty, "\(tags.joined(separator: "\n"))")
    }

    @Test func whatisIndexesEveryManPage() throws {
        let package = try #require(TestEnvironment.debianPackage)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deb-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Shell.must("dpkg-deb", "-x", package, root)
        let pages = try FileManager.default.contentsOfDirectory(atPath: root + "/usr/share/man/man1").sorted()
        #expect(pages.count >= 10 && pages.contains("mooring-restart.1.gz"), "\(pages)")
        for page in pages {
            let name = String(page.dropLast(".1.gz".count))
            let entry = try Shell.run(["lexgrog", root + "/usr/share/man/man1/" + page])
            #expect(entry.status == 0 && entry.stdout.contains("\"\(name) - "), "\(page): \(entry.stdout)\(entry.stderr)")
            let text = try Shell.must("sh", "-c", "zcat '\(root)/usr/share/man/man1/\(page)'")
            for section in ["EXIT STATUS", "FILES", "SEE ALSO"] { #expect(text.contains(".SH \"\(section)\"") || text.contains(".SH \(section)"), "\(page): \(section)") }
            #expect(text.contains(".TH \(name.uppercased()) "), "\(page): its own title")
        }
    }

    /// The alert rules the package ships pass Prometheus's own checker, and its rule tests: `MooringNotRunning`
    /// fires when the apply timer stops reporting, never for the hourly drift check's `plan` alone (it used to
    /// fire all the time there).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"), "needs promtool (scripts/install-deps)"))
    func theShippedAlertRulesPassPromtool() throws {
        let package = try #require(TestEnvironment.debianPackage)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Shell.must("dpkg-deb", "-x", package, root)
        let rules = root + "/usr/share/mooring/prometheus/mooring-alerts.yml"
        let check = try Shell.run(["promtool", "check", "rules", rules])
        #expect(check.status == 0 && check.stdout.contains("SUCCESS: 4 rules found"), "\(check.stdout)\(check.stderr)")
        try """
            rule_files: [\(rules)]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  # Only the drift timer reports, once an hour (its last report 50 minutes old at the end).
                  - series: 'mooring_last_run_timestamp_seconds{command="plan"}'
                    values: '600x60'
                  # The apply timer stopped reporting after 10 minutes.
                  - series: 'mooring_last_run_timestamp_seconds{command="apply"}'
                    values: '600x60'
                alert_rule_test:
                  - eval_time: 60m
                    alertname: MooringNotRunning
                    exp_alerts:
                      - exp_labels: {severity: warning, command: apply}
                        exp_annotations:
                          summary: "mooring apply on  last reported 50m 0s ago"
                          description: "Check `systemctl status mooring.service mooring-apply.timer`."
            """.write(toFile: root + "/test.yml", atomically: true, encoding: .utf8)
        let test = try Shell.run(["promtool", "test", "rules", root + "/test.yml"])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
    }
}
