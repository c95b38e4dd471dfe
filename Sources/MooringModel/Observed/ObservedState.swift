/// What mooring found on the host: the kernel's links and addresses, its own nftables table, sysctls and
/// its units. Drivers fill it in; the planner compares it with the `DesiredState`.
public struct ObservedState: Sendable, Codable, Equatable {
    public var links: [ObservedLink]
    /// The `inet mooring` table, normalised; nil when it does not exist.
    public var nftables: NftTable?
    /// Sysctls mooring may set, by dotted name (`net.ipv4.ip_forward`).
    public var sysctls: [String: String]
    /// `mooring-vm-*.service` units that run in this target's network namespace.
    public var units: [ObservedUnit]
    /// mooring's units that run for another target (another network namespace, or the host's). Units are one
    /// per host: a MicroVM of one of these names cannot start here.
    public var unitsOfOtherTargets: [ObservedUnit] = []
    /// `mooring-bridge-*.service` units (a bridge's dnsmasq) in this target's network namespace.
    public var bridgeServices: [ObservedUnit] = []
    /// Each bridge service's configuration file as it is now (`SystemdNames.bridgeServiceDirectory`'s `dnsmasq.conf`), by
    /// unit name: a hand edit is drift (dnsmasq reads it only at start, so it is written again and restarted).
    public var bridgeServiceConfigs: [String: String] = [:]
    /// Why units could not be listed (no bus), or nil when they were.
    public var unitProblem: String?
    /// The problem is that no systemd manager is there at all (no bus socket): then no unit of mooring's can
    /// exist either, and only declared MicroVMs make it matter.
    public var unitManagerAbsent: Bool
    /// Facts about the host that decide what can work (8021q, /dev/kvm, ...).
    public var capabilities: HostCapabilities
    /// The guests' filter, `bridge mooring`; nil when it does not exist.
    public var guestFilter: NftTable?
    /// The macvtaps' filter, `netdev mooring`; nil when it does not exist.
    public var macvtapFilter: NftTable?
    /// DNS servers and search domains systemd-resolved has per link, by link name (links with none are absent).
    public var nameservers: [String: Nameservers] = [:]
    /// The uid of each MicroVM's own VMM user, from its record in systemd's runtime user database (`/run/userdb`).
    public var vmIdentities: [String: UInt32] = [:]
    /// Why resolved could not be asked when the manifests declare DNS (not running, no system bus, a netns).
    public var resolverProblem: String?
    /// The image cache and each image the manifests name; nil when no MicroVM names an image.
    public var imageStore: ImageStore?

    public init(links: [ObservedLink] = [], nftables: NftTable? = nil, sysctls: [String: String] = [:],
                units: [ObservedUnit] = [], unitProblem: String? = nil, unitManagerAbsent: Bool = false,
                capabilities: HostCapabilities = HostCapabilities()) {
        self.links = links
        self.nftables = nftables
        self.sysctls = sysctls
        self.units = units
        self.unitProblem = unitProblem
        self.unitManagerAbsent = unitManagerAbsent
        self.capabilities = capabilities
    }

    public func link(named name: String) -> ObservedLink? { links.first { $0.name == name } }
    public func link(index: Int) -> ObservedLink? { links.first { $0.index == index } }

    /// The links of these names, by name: for a planner that needs a few (the bridges) among thousands of taps,
    /// without copying every link into a dictionary (measured: a millisecond a plan at a thousand taps).
    public func links(named names: Set<String>) -> [String: ObservedLink] {
        var found: [String: ObservedLink] = [:]
        guard !names.isEmpty else { return found }
        let wanted = LinkNameFilter(names)
        for position in links.indices {
            let name = links[position].name
            guard wanted.contains(name), found[name] == nil else { continue }
            found[name] = links[position]
        }
        return found
    }

    public var linksByName: LinkLookup<String> { LinkLookup(byName: links) }
    public var linksByIndex: LinkLookup<Int> { LinkLookup(byIndex: links) }
}

public struct HostCapabilities: Sendable, Codable, Equatable {
    /// Whether the kernel can create 802.1Q VLAN devices (the 8021q module).
    public var vlan: Bool
    /// Absolute paths of the VMM programs found on PATH, by program name.
    public var executables: [String: String]
    /// mooring's own executable (for `mooring exec-vm`).
    public var mooringExecutable: String
    /// Which of the files the manifests name (kernels, initrds, disks) exist.
    public var existingFiles: Set<String>
    /// Why KVM cannot run stock guest kernels here, or nil when it can.
    public var kvmProblem: String?
    /// The host's TSC frequency in kHz, whole MHz (TCG guests run on the host's TSC); nil when unknown.
    public var tscKHz: Int?
    /// Who VMMs run as; nil when that user is missing (`vmmIdentityProblem` says why).
    public var vmmIdentity: VMMIdentity?
    public var vmmIdentityProblem: String?
    /// Files the manifests name that the VMM's user could not open as it needs to, with the reason.
    public var vmmFileProblems: [String: FileAccessProblem]
    /// Whether /dev/vhost-net exists (the kernel moves tap packets without the VMM's help).
    public var vhostNet: Bool
    /// Whether journald runs (its socket exists): units' output can go to the journal.
    public var journal: Bool
    /// What each file the manifests name really is: its path with every symlink resolved, and its owner.
    public var fileFacts: [String: FileFact] = [:]
    /// Whether systemd resolves users from its own user database (`libnss-systemd` in /etc/nsswitch.conf), which
    /// one identity per MicroVM needs.
    public var userDatabase = false
    /// Uids and gids of the VM identities' range that the host's own user and group files hold: never allocated.
    public var foreignIDs: [UInt32] = []

    public init(vlan: Bool = true, executables: [String: String] = [:], mooringExecutable: String = "/usr/local/bin/mooring",
                existingFiles: Set<String> = [], kvmProblem: String? = nil, tscKHz: Int? = nil,
                vmmIdentity: VMMIdentity? = VMMIdentity(user: nil, uid: 0, gid: 0), vmmIdentityProblem: String? = nil,
                vmmFileProblems: [String: FileAccessProblem] = [:], vhostNet: Bool = false, journal: Bool = false) {
        self.journal = journal
        self.vmmIdentity = vmmIdentity
        self.vmmIdentityProblem = vmmIdentityProblem
        self.vmmFileProblems = vmmFileProblems
        self.vhostNet = vhostNet
        self.vlan = vlan
        self.executables = executables
        self.mooringExecutable = mooringExecutable
        self.existingFiles = existingFiles
        self.kvmProblem = kvmProblem
        self.tscKHz = tscKHz
    }
}

/// Who a MicroVM's VMM runs as.
public struct VMMIdentity: Sendable, Codable, Equatable {
    /// The unit's `User=` and `Group=`; nil under a user manager, whose units run as the manager's own user.
    public var user: String?
    public var uid: UInt32
    public var gid: UInt32
    /// Groups that grant the VMM's devices (`kvm`: /dev/kvm, /dev/vhost-net), those that exist here.
    public var supplementaryGroups: [String]
    public var supplementaryGIDs: [UInt32]

    public init(user: String?, uid: UInt32, gid: UInt32, supplementaryGroups: [String] = [], supplementaryGIDs: [UInt32] = []) {
        self.user = user
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
        self.supplementaryGIDs = supplementaryGIDs
    }
}

/// A file a manifest names, as the host has it: where its symlinks lead, and whose it is.
public struct FileFact: Sendable, Codable, Equatable {
    public var resolved: String
    public var owner: UInt32

    public init(resolved: String, owner: UInt32) {
        self.resolved = resolved
        self.owner = owner
    }
}

/// A `mooring-vm-*.service` unit as systemd reports it.
public struct ObservedUnit: Sendable, Codable, Equatable {
    public var name: String
    public var activeState: String
    public var subState: String
    public var mainPID: Int
    /// `MOORING_SPEC_HASH` from the unit's environment.
    public var specHash: String?
    /// `MOORING_POLICY_HASH`; nil for units started by a mooring that hashed both together.
    public var policyHash: String?
    public var restarts: Int
    /// `NetworkNamespacePath=`: which target the unit belongs to.
    public var networkNamespacePath: String?
    /// For a failed or restarting unit: systemd's account (`Result=start-limit-hit`, how the VMM ended) and the
    /// last lines the VMM wrote, so a plan says why it failed before it is started again.
    public var failure: String?
    public var lastOutput: [String]

    public init(name: String, activeState: String, subState: String, mainPID: Int = 0, specHash: String? = nil,
                restarts: Int = 0, networkNamespacePath: String? = nil, failure: String? = nil, lastOutput: [String] = []) {
        self.failure = failure
        self.lastOutput = lastOutput
        self.name = name
        self.activeState = activeState
        self.subState = subState
        self.mainPID = mainPID
        self.specHash = specHash
        self.restarts = restarts
        self.networkNamespacePath = networkNamespacePath
    }

    public var isRunning: Bool { activeState == "active" || activeState == "activating" || activeState == "reloading" }
}

/// Why a VMM's user could not open a file: a directory above it that it may not enter (`blockedDirectory`), or
/// the file's own permission bits.
public struct FileAccessProblem: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The first directory on the way that the user may not enter; nil when the file's own bits are the problem.
    public var blockedDirectory: String?
    public var description: String

    public init(blockedDirectory: String? = nil, _ description: String) {
        self.blockedDirectory = blockedDirectory
        self.description = description
    }
}
