import Foundation

/// A booted container of the PID 1 test host (scripts/pid1bed): a real systemd 252 as PID 1 with a system bus,
/// mooring installed from the package `make deb` built.
final class PID1Host {
    let name: String
    let root: String
    static let script = TestEnvironment.repository.appendingPathComponent("scripts/pid1bed").path

    init(_ prefix: String) throws {
        name = "\(prefix)-\(UUID().uuidString.prefix(6).lowercased())"
        try Shell.must(Self.script, "boot", name)
        root = try Shell.must(Self.script, "root", name).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { _ = try? Shell.run([Self.script, "stop", name]) }

    /// Runs a command inside, as root with the container's namespaces.
    @discardableResult
    func run(_ arguments: String...) throws -> Shell.Output { try Shell.run([Self.script, "exec", name] + arguments) }

    /// Installs the package with dpkg, as an operator would.
    func installPackage() throws -> Shell.Output {
        let package = try require(TestEnvironment.debianPackage)
        try FileManager.default.copyItem(atPath: package, toPath: root + "/root/mooring.deb")
        return try run("dpkg", "-i", "/root/mooring.deb")
    }

    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A unit's properties, `systemctl show -p`.
    func unit(_ unit: String, _ properties: String...) throws -> [String: String] {
        let output = try run(["systemctl", "show", unit, "--no-pager"] + properties.map { "-p\($0)" })
        var values: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    /// `systemctl reboot` inside; returns once systemd is up again, with the seconds it took.
    func reboot() throws -> Double {
        Double(try Shell.must(Self.script, "reboot", name).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    private func run(_ arguments: [String]) throws -> Shell.Output { try Shell.run([Self.script, "exec", name] + arguments) }
}

private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw PID1HostError() }
    return value
}

struct PID1HostError: Error {}
