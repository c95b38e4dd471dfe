import Foundation
import MooringDrivers
import Testing

/// What the machine running the tests can do, for enabling tests with a stated reason.
enum TestEnvironment {
    static let isRoot = geteuid() == 0
    static let rootReason: Comment = "integration tests need root to create network namespaces"

    static let hasVLAN = HostDrivers.kernelHasVLAN()

    /// The test bed's guest (kernel + initramfs) and user manager, set up by `scripts/testbed run`.
    static let guestDirectory = ProcessInfo.processInfo.environment["MOORING_TESTBED_GUEST"]
    static let hasTestbed: Bool = {
        guard let guest = guestDirectory, let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] else { return false }
        return isRoot && FileManager.default.fileExists(atPath: guest + "/vmlinux")
            && FileManager.default.fileExists(atPath: runtime + "/bus")
    }()
    static let testbedReason: Comment = "needs the MicroVM test bed (a guest image and a systemd user manager): run `make test`, or `scripts/testbed run -- swift test`"

    /// The repository's root.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The Debian package `make deb` (part of `make test`) built, newest first.
    static let debianPackage: String? = {
        let directory = repository.appendingPathComponent(".build/deb")
        let packages = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".deb") }
        return packages.map { directory.appendingPathComponent($0).path }.max { modified($0) < modified($1) }
    }()
    private static func modified(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
    static let hasPID1Bed = isRoot && debianPackage != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")
        && FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap")
    static let pid1BedReason: Comment = "needs the PID 1 test host (systemd-nspawn, debootstrap) and the package from `make deb`: run `make test`"

    /// The `mooring` executable built next to the test bundle.
    static let mooringBinary: String = {
        if let explicit = ProcessInfo.processInfo.environment["MOORING_BIN"] { return explicit }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("mooring").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/mooring").path
    }()

    /// Runs the mooring CLI.
    static func mooring(_ arguments: [String], environment: [String: String]? = nil) throws -> Shell.Output {
        try Shell.run([mooringBinary] + arguments, environment: environment)
    }
}
