import Foundation

/// Runs one of the programs mooring leaves a job to (skopeo, umoci, qemu-img, mkfs.ext4): an argument vector,
/// never a shell, with a clean environment but for what the program needs to find its credentials.
enum HelperProgram {
    struct Failure: Error, CustomStringConvertible {
        var program: String
        var status: Int32
        var output: String
        var description: String {
            let said = output.split(separator: "\n").suffix(3).joined(separator: "; ")
            return "\(program) exited with status \(status)" + (said.isEmpty ? "" : ": \(said)")
        }
    }

    /// In the usual directories only (HostFacts.searchPath), not the caller's PATH: root runs these.
    static func find(_ program: String) -> String? {
        HostFacts.searchPath.map { "\($0)/\(program)" }.first { access($0, X_OK) == 0 }
    }

    /// Runs `argv` and returns its standard output; a non-zero exit throws with the end of its standard error.
    /// - Parameter showProgress: its standard error goes to ours (a terminal: skopeo's progress bars).
    @discardableResult
    static func run(_ argv: [String], showProgress: Bool = false) throws -> String {
        guard let executable = find(argv[0]) else {
            throw Failure(program: argv[0], status: 127, output: "\(argv[0]) is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        // HOME and XDG_RUNTIME_DIR are where skopeo finds registry credentials (docker's config.json,
        // containers' auth.json); PATH for umoci's own helpers.
        let inherited = ProcessInfo.processInfo.environment
        var environment = ["PATH": HostFacts.searchPath.joined(separator: ":"), "LC_ALL": "C"]
        for name in ["HOME", "XDG_RUNTIME_DIR", "REGISTRY_AUTH_FILE", "DOCKER_CONFIG"] { environment[name] = inherited[name] }
        if environment["HOME"] == nil { environment["HOME"] = "/root" }
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = showProgress ? FileHandle.standardError : errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Both pipes drained while it runs: a program that fills one pipe's buffer would wait forever.
        let errorText = ErrorCollector()
        let drained = DispatchSemaphore(value: 0)
        if showProgress { drained.signal() } else {
            Thread.detachNewThread {
                errorText.data = errors.fileHandleForReading.readDataToEndOfFile()
                drained.signal()
            }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        drained.wait()
        let stdout = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(program: argv[0], status: process.terminationStatus,
                          output: String(decoding: errorText.data ?? Data(), as: UTF8.self) + stdout)
        }
        return stdout
    }

    private final class ErrorCollector: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Data?
        var data: Data? {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }
}
