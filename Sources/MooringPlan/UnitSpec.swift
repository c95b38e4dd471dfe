import MooringModel

/// A MicroVM's transient systemd unit, fully described: what `apply` asks systemd to start.
public struct UnitSpec: Sendable, Equatable {
    public var name: String
    public var microVM: String
    public var description: String
    /// The command line; argv[0] is an absolute path. Passed to systemd as an argv array, never a shell string.
    public var argv: [String]
    /// `ExecStop=`: asks the guest to power off and waits for it (`mooring stop-vm`); systemd then terminates
    /// whatever is left. It runs on every stop, including the host's own shutdown.
    public var stopCommand: [String]?
    /// How long the stop command waits for the guest.
    public var stopTimeoutSeconds: Int
    /// The VMM's QMP or API socket (in the run directory), which the stop command talks to.
    public var controlSocket: String?
    /// Includes `MOORING_SPEC_HASH=<hash>`.
    public var environment: [String]
    /// `/run/netns/NAME` when mooring targets a network namespace.
    public var networkNamespacePath: String?
    /// `/run/mooring/vms/<vm>`: root's own directory, which the VMM can only read: the seed disk, configs and
    /// the VMM's output file, all written by mooring. What the VMM writes (sockets, the serial console, the stop
    /// record) goes to `vmmDirectory` below it, made afresh at every start and writable by the VMM's group: root
    /// writes nothing into a directory the VMM can change, and reads from it only by descriptor.
    public var runDirectory: String
    /// The group that may read the seed disk and configs, and write in `vmmDirectory`.
    public var runDirectoryGroup: UInt32
    /// The VMM's stdout and stderr, appended to across starts.
    public var logFile: String?
    /// Files to write before starting (firecracker's JSON config).
    public var files: [UnitFile]
    /// The guest's cloud-init NoCloud disk, written before starting and attached read-only.
    public var seedDisk: SeedDisk?
    /// The VMM's own user, written to systemd's user database before starting; nil when VMMs share one user.
    public var identity: UserRecord?
    /// Writable disks handed to the VMM's own user before starting (`fchown` by descriptor, mode 0600).
    public var ownedDisks: [String] = []
    /// How `apply` knows the started VMM runs. Not part of the hash: it changes nothing the VMM sees.
    public var readiness: UnitReadiness = .staysUp
    /// Every other property of the unit (restart policy, kill mode, slice, timeouts, sandboxing), exactly as
    /// systemd's D-Bus API names them: the planner decides them, the driver only sends them.
    public var properties: [UnitProperty]
    /// A hash of what the guest can observe (the VMM's own command line: devices, disks, memory, kernel; its
    /// config files and seed contents; its network namespace): a different one means a restart.
    public var specHash: String
    /// A hash of the host-side policy (the unit's properties: sandbox, user, restart policy; the stop command and
    /// the launcher, which name mooring's own path; the run directory's group): a different one alone restarts
    /// nothing, so an upgrade of mooring that changes the sandbox leaves running VMs alone. It applies when the
    /// VM restarts for another reason, or with `mooring restart`.
    public var policyHash: String = ""

    public init(name: String, microVM: String, description: String, argv: [String], stopCommand: [String]? = nil,
                stopTimeoutSeconds: Int = 0, controlSocket: String? = nil, environment: [String], networkNamespacePath: String?, runDirectory: String,
                runDirectoryGroup: UInt32 = 0, logFile: String?, files: [UnitFile], properties: [UnitProperty], specHash: String) {
        self.name = name
        self.microVM = microVM
        self.description = description
        self.argv = argv
        self.stopCommand = stopCommand
        self.stopTimeoutSeconds = stopTimeoutSeconds
        self.controlSocket = controlSocket
        self.runDirectoryGroup = runDirectoryGroup
        self.environment = environment
        self.networkNamespacePath = networkNamespacePath
        self.runDirectory = runDirectory
        self.logFile = logFile
        self.files = files
        self.properties = properties
        self.specHash = specHash
    }

    public var vmmDirectory: String { UnitSpec.vmmDirectory(of: runDirectory) }
    public var consoleFile: String { vmmDirectory + "/" + UnitSpec.consoleName }
    /// Where `mooring stop-vm` records how the last stop went (`GuestStop`).
    public var stopRecordFile: String { vmmDirectory + "/" + UnitSpec.stopRecordName }

    /// The VMM's own directory in a run directory.
    public static func vmmDirectory(of runDirectory: String) -> String { runDirectory + "/" + vmmDirectoryName }
    public static let vmmDirectoryName = "vmm"
    public static let stopRecordName = "last-stop.json"
    public static let consoleName = "console.log"
}

/// A small FAT disk image with a volume label and a few files in its root directory (cloud-init's NoCloud
/// `cidata`): the planner decides every byte that matters (the label and the files' contents), the driver lays
/// them out as a file system.
public struct SeedDisk: Sendable, Equatable {
    public var path: String
    public var label: String
    /// `path` is the name in the disk's root directory.
    public var files: [UnitFile]

    public init(path: String, label: String, files: [UnitFile]) {
        self.path = path
        self.label = label
        self.files = files
    }
}

/// A file the driver writes before starting the unit (firecracker's config), directly in the run directory.
public struct UnitFile: Sendable, Equatable {
    public var path: String
    public var contents: String

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

/// How `apply` knows a started VMM runs, beyond systemd's start job (`Type=exec`: the binary was executed).
/// Either way the unit must stay active with the same main process while `apply` waits; the settle time
/// (1 s) bounds the wait.
public enum UnitReadiness: Sendable, Equatable {
    /// QEMU answers `query-status` with `running` on its QMP socket. QEMU answers only from its main loop:
    /// it parsed its command line, opened its devices and files, loaded the kernel and runs the guest, which is
    /// where a VMM that fails at start fails. Typically 0.1 s instead of the whole settle time.
    case qmpRunning(socket: String)
    /// No probe (cloud-hypervisor and firecracker here): the unit must stay up for the whole settle time.
    case staysUp
}
