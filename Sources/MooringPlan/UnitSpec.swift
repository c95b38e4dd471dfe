import MooringModel

/// A MicroVM's transient systemd unit, fully described: what `apply` asks systemd to start.
public struct UnitSpec: Sendable, Equatable {
    public var name: String
    public var microVM: String
    public var description: String
    /// The command line; argv[0] is an absolute path. Passed to systemd as an argv array, never a shell string.
    public var argv: [String]
    /// Includes `MOORING_SPEC_HASH=<hash>`.
    public var environment: [String]
    /// `/run/netns/NAME` when mooring targets a network namespace.
    public var networkNamespacePath: String?
    /// `/run/mooring/vms/<vm>`: the serial console, the VMM's output, sockets and configs.
    public var runDirectory: String
    /// The VMM's stdout and stderr, appended to across starts.
    public var logFile: String
    /// Files to write before starting (firecracker's JSON config).
    public var files: [UnitFile]
    /// Every other property of the unit (restart policy, kill mode, slice, timeouts, sandboxing), exactly as
    /// systemd's D-Bus API names them: the planner decides them, the driver only sends them.
    public var properties: [UnitProperty]
    /// A hash of everything above but the hash itself: a different hash means a restart.
    public var specHash: String

    public init(name: String, microVM: String, description: String, argv: [String], environment: [String],
                networkNamespacePath: String?, runDirectory: String, logFile: String, files: [UnitFile],
                properties: [UnitProperty], specHash: String) {
        self.name = name
        self.microVM = microVM
        self.description = description
        self.argv = argv
        self.environment = environment
        self.networkNamespacePath = networkNamespacePath
        self.runDirectory = runDirectory
        self.logFile = logFile
        self.files = files
        self.properties = properties
        self.specHash = specHash
    }

    public var consoleFile: String { runDirectory + "/console.log" }
}

/// A file the driver writes before starting the unit (firecracker's config), under the run directory.
public struct UnitFile: Sendable, Equatable {
    public var path: String
    public var contents: String

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}
