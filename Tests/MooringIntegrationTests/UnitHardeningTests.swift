import Foundation
import Testing

/// Every unit mooring ships scores at most 2.5 in `systemd-analyze security` (systemd-networkd's own unit
/// scores 2.8). The PID 1 tests run the same units for real, so a setting that breaks them fails there.
@Suite struct UnitHardeningTests {
    static let units = TestEnvironment.repository.appendingPathComponent("units")

    @Test func everyServiceScoresAtMostTwoAndAHalf() throws {
        let services = try FileManager.default.contentsOfDirectory(atPath: Self.units.path).filter { $0.hasSuffix(".service") }.sorted()
        #expect(services.count == 5, "\(services)")
        for service in services {
            let run = try Shell.run(["systemd-analyze", "security", "--offline=true", Self.units.appendingPathComponent(service).path])
            // "→ Overall exposure level for mooring-apply.service: 2.5 OK 🙂"
            let line = run.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }.map(String.init) ?? ""
            let score = line.split(separator: ":").last.flatMap { Double($0.split(separator: " ").first ?? "") }
            #expect(score != nil && score! <= 2.5, "\(service): \(line) \(run.stderr)")
        }
    }
}
