import Foundation
import Testing

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

    /// Puts the host's QEMU (binary, the libraries it links, its modules and firmware) and the test bed's guest
    /// into the container: Debian's qemu-system-x86 is not in the cached tree, and the container has no network
    /// to install it. `/usr/local/bin/qemu-system-x86_64` runs it, so mooring finds it on PATH as it would.
    func installHostQEMU(guest: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/opt/host/lib", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/var/lib/mooring-test", withIntermediateDirectories: true)
        try Shell.must("cp", "/usr/bin/qemu-system-x86_64", root + "/opt/host/qemu")
        try Shell.must("cp", "-rL", "/usr/share/qemu", root + "/usr/share/")
        try Shell.must("cp", "-r", "/usr/lib/x86_64-linux-gnu/qemu", root + "/usr/lib/x86_64-linux-gnu/")
        let libraries = try Shell.must("sh", "-c", "ldd /usr/bin/qemu-system-x86_64 /usr/lib/x86_64-linux-gnu/qemu/*.so | awk '/=>/ { print $3 }' | sort -u")
        for library in libraries.split(separator: "\n") { _ = try Shell.run(["cp", "-Ln", String(library), root + "/opt/host/lib/"]) }
        try Shell.must("cp", guest + "/vmlinux", guest + "/initrd.cpio.gz", root + "/var/lib/mooring-test/")
        // QEMU finds its modules and firmware relative to its own path unless told: tell it.
        try write("/usr/local/bin/qemu-system-x86_64", """
            #!/bin/sh
            QEMU_MODULE_DIR=/usr/lib/x86_64-linux-gnu/qemu LD_LIBRARY_PATH=/opt/host/lib exec /opt/host/qemu -L /usr/share/qemu "$@"

            """)
        try Shell.must("chmod", "0755", root + "/usr/local/bin/qemu-system-x86_64")
    }

    /// /dev/net/tun as udev leaves it on a Debian host (0666); the container copies this machine's, which has
    /// no udev and keeps it root's alone, so an unprivileged VMM could not open it. Now, and at every boot
    /// (systemd-tmpfiles-setup-dev runs before sysinit.target, as udev's rule would apply).
    func openTunToAll() throws {
        try write("/etc/tmpfiles.d/test-tun.conf", "z /dev/net/tun 0666 - - -\n")
        #expect(try run("chmod", "0666", "/dev/net/tun").status == 0)
    }

    /// A MicroVM that boots the test bed's guest as `installHostQEMU` puts it into the container; `extraSpec`
    /// lines go into its spec as they are.
    static func guestManifest(_ name: String, vcpu: Int = 1, interface: String, extraSpec: [String] = []) -> String {
        Manifests.header + """
            kind: MicroVM
            metadata: {name: \(name)}
            spec:
              vcpu: \(vcpu)
              memoryMb: 128
              vmm: qemu-microvm
              kernel: /var/lib/mooring-test/vmlinux
              initrd: /var/lib/mooring-test/initrd.cpio.gz
            \(extraSpec.map { "  " + $0 + "\n" }.joined())  networkInterfaces: [\(interface)]

            """
    }

    /// A file as the container sees it (its /run and /tmp are its own mounts, not the overlay underneath).
    func read(_ path: String) -> String { (try? run("cat", path).stdout) ?? "" }

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
