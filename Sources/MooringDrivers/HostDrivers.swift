import Foundation
import MooringModel
import MooringPlan
import Synchronization

/// The drivers for one target (the host, or one network namespace), created and used on its namespace thread.
public final class HostDrivers: Sendable {
    public let netns: String?
    private let thread: NamespaceThread
    /// libnftables runs on a thread of its own in the same namespace, so listing the table overlaps the
    /// netlink dumps.
    private let nftThread: NamespaceThread
    private let netlink: NetlinkDriver
    private let nftables: NftablesDriver
    /// The user bus (`--user`) or the system bus.
    public let userBus: Bool
    /// Connected on first use: hosts whose manifests run no VMM never need a bus.
    private let systemd = Mutex<Result<SystemdDriver, Error>?>(nil)

    public init(netns: String?, userBus: Bool = false) throws {
        self.netns = netns
        self.userBus = userBus
        thread = try NamespaceThread(netns: netns)
        nftThread = try NamespaceThread(netns: netns)
        netlink = try thread.run { try NetlinkDriver() }
        nftables = try nftThread.run { try NftablesDriver() }
    }

    public func systemdDriver() throws -> SystemdDriver {
        try systemd.withLock { cached in
            if cached == nil { cached = Result { try SystemdDriver(user: userBus) } }
            return try cached!.get()
        }
    }

    deinit {
        thread.stop()
        nftThread.stop()
    }

    /// Reads everything the planner compares: links and addresses, mooring's nftables table, sysctls, the
    /// units of this target, and the host facts MicroVMs need (checking `files` exist).
    public func observe(files: Set<String> = []) throws -> ObservedState {
        try beginObserving().finish(files: files)
    }

    /// A round that netlink events started: the links, addresses, routes and their sysctls are read again;
    /// what no link event changes (mooring's nftables tables, the units, the host's facts) is `previous`'s, and
    /// DNS only where the link is still the same one (resolved keeps it by index). The periodic resync, and any
    /// round that changed more than links, observe everything.
    /// - Parameter names: only these links are read again (one get each, no dump of every link); the others
    ///   are `previous`'s. nil: all of them.
    public func observeLinks(updating previous: ObservedState, only names: Set<String>? = nil) throws -> ObservedState {
        let netlink = self.netlink
        let (links, sysctls) = try thread.run {
            var links: [ObservedLink]
            if let names {
                let found = try netlink.observeLinks(named: names)
                // One copy of the list, and no hashing of every link's name for the few a round names (a filter
                // and a concatenation copied every link twice: a tenth of a round at a thousand taps).
                let foundIndexes = found.map(\.index), named = LinkNameFilter(names)
                links = previous.links
                links.removeAll { link in foundIndexes.contains(link.index) || named.contains(link.name) }
                links += found
            } else {
                links = try netlink.observeLinks()
            }
            let bridges = links.filter { $0.kind.isBridge }.map { DesiredBridge.acceptRASysctl($0.name) }
            return (links, SysctlDriver.read(SysctlDriver.managed + bridges))
        }
        var state = previous
        state.links = links
        state.sysctls = sysctls
        if !previous.nameservers.isEmpty {
            let names = Set(previous.nameservers.keys)
            let before = previous.links(named: names), now = state.links(named: names)
            state.nameservers = previous.nameservers.filter { name, _ in before[name]?.index == now[name]?.index }
        }
        return state
    }

    /// Starts observing in the background (netlink and nftables on their namespace threads), so the caller
    /// can parse the manifests meanwhile; `finish` collects the rest and waits.
    /// - Parameter tables: mooring's `inet` table and guests' bridge filter, already being read
    ///   (`beginObservingTables`); nil: read them now.
    public func beginObserving(tables: PendingTables? = nil) -> PendingObservation {
        let netlink = self.netlink, nftables = self.nftables
        let tables = tables ?? beginObservingTables()
        return PendingObservation(
            drivers: self,
            links: thread.start {
                // With the links known, each bridge's accept_ra too (per-link sysctls mooring may set).
                let links = try netlink.observeLinks()
                let bridges = links.filter { $0.kind.isBridge }.map { DesiredBridge.acceptRASysctl($0.name) }
                return (links, SysctlDriver.read(SysctlDriver.managed + bridges))
            },
            table: tables.table,
            guestFilter: tables.guestFilter,
            macvtapFilter: nftThread.start { try nftables.observe(family: NftTable.netdevFamily) })
    }

    /// Starts reading the tables that only changes run alongside the links write (`Phase.runsAlongsideLinks`):
    /// an apply's verification reads them as soon as those changes are committed, while the links are still
    /// being made (the `inet mooring` listing with a thousand forwards: 45 ms at N = 1000, then off the
    /// critical path). The macvtaps' filter changes after the links, so it is not one of them.
    public func beginObservingTables() -> PendingTables {
        let nftables = self.nftables
        // One listing of `inet mooring`, elements included. A terse listing first (the table's shape, for runs
        // that want no NAT) was tried: libnftables fetches the maps' elements from the kernel for it as well, so
        // with NAT declared the table was read twice, and that second read ran beside the manifests' parsing on
        // a two-core host (no-op plan at N = 1000: see docs/performance.md).
        return PendingTables(table: nftThread.start { try nftables.observe() },
                             guestFilter: nftThread.start { try nftables.observe(family: NftTable.bridgeFamily) })
    }

    public struct PendingTables: Sendable {
        let table: Pending<NftTable?>
        let guestFilter: Pending<NftTable?>

        /// Waits for both listings, whatever they give (see `Pending.settle`).
        public func settle() {
            table.settle()
            guestFilter.settle()
        }
    }

    public struct PendingObservation: Sendable {
        let drivers: HostDrivers
        let links: Pending<([ObservedLink], [String: String])>
        let table: Pending<NftTable?>
        let guestFilter: Pending<NftTable?>
        let macvtapFilter: Pending<NftTable?>

        /// - Parameter runRoot: where the VMs' run directories are, for a failed VMM's last output.
        /// - Parameter nameservers: whether the manifests declare DNS for a link (a failure to ask resolved
        ///   matters then; otherwise it is only asked about mooring's own bridges, quietly).
        /// - Parameter images: the image root and the references the manifests name (the store is read and the
        ///   registries asked alongside the rest); nil when no MicroVM names an image.
        public func finish(files: Set<String>, writableFiles: Set<String> = [], runRoot: String = "/run/mooring",
                           nameservers: Bool = false, images: (root: String, references: [String])? = nil) throws -> ObservedState {
            let store = images.map { images in
                Pending<ImageStore>.onOwnThread { ImageStoreReader.observe(root: images.root, references: images.references) }
            }
            do {
                var state = try collect(files: files, writableFiles: writableFiles, runRoot: runRoot, nameservers: nameservers)
                state.imageStore = try store?.wait()
                return state
            } catch {
                settle()
                store?.settle()
                throw error
            }
        }

        /// Waits for every part of the observation, whatever it gives: before an early exit (invalid manifests
        /// found while the host was being read), and after one part failed while others still run.
        public func settle() {
            links.settle()
            table.settle()
            guestFilter.settle()
            macvtapFilter.settle()
        }

        private func collect(files: Set<String>, writableFiles: Set<String>, runRoot: String, nameservers: Bool) throws -> ObservedState {
            let (identity, identityProblem) = HostFacts.vmmIdentity(userManager: drivers.userBus)
            var capabilities = HostCapabilities(vlan: HostDrivers.kernelHasVLAN(), executables: HostFacts.executables(),
                                                mooringExecutable: HostFacts.mooringExecutable(),
                                                existingFiles: HostFacts.existing(files), kvmProblem: HostFacts.kvmProblem(),
                                                tscKHz: HostFacts.tscKHz(), vmmIdentity: identity, vmmIdentityProblem: identityProblem,
                                                vmmFileProblems: HostFacts.vmmFileProblems(read: files, write: writableFiles, identity: identity),
                                                vhostNet: HostFacts.vhostNet(), journal: HostFacts.journal())
            capabilities.fileFacts = HostFacts.fileFacts(files)
            capabilities.userDatabase = UserDatabase.isRead()
            capabilities.foreignIDs = UserDatabase.foreignIDs()
            var units: [ObservedUnit] = []
            var unitsOfOtherTargets: [ObservedUnit] = []
            var unitProblem: String?
            var managerAbsent = false
            do {
                let netnsPath = drivers.netns.map { "/run/netns/\($0)" }
                // Units started for other targets (another namespace, or the host) are not this run's to touch,
                // but their names are taken.
                for unit in try drivers.systemdDriver().listUnits(runRoot: runRoot) {
                    if unit.networkNamespacePath == netnsPath { units.append(unit) } else { unitsOfOtherTargets.append(unit) }
                }
            } catch {
                unitProblem = "\(error)"
                managerAbsent = (error as? NoBus)?.managerAbsent ?? false
            }
            let (links, sysctls) = try self.links.wait()
            let table = try self.table.wait()
            capabilities.vlan = capabilities.vlan || links.contains { if case .made(.vlan) = $0.kind { true } else { false } }
            var state = ObservedState(links: links, nftables: table, sysctls: sysctls, units: units, unitProblem: unitProblem,
                                      unitManagerAbsent: managerAbsent,
                                      capabilities: capabilities)
            (state.nameservers, state.resolverProblem) = observeNameservers(links, declared: nameservers)
            state.unitsOfOtherTargets = unitsOfOtherTargets
            state.guestFilter = try guestFilter.wait()
            state.macvtapFilter = try macvtapFilter.wait()
            if !drivers.userBus { state.vmIdentities = UserDatabase.observe() }
            // The bridges' services apart: the MicroVM planner stops every unit of its prefix that no manifest wants.
            state.bridgeServices = state.units.filter { $0.name.hasPrefix(SystemdNames.bridgeServicePrefix) }
            state.units.removeAll { $0.name.hasPrefix(SystemdNames.bridgeServicePrefix) }
            for unit in state.bridgeServices {
                guard let bridge = SystemdNames.bridge(forServiceUnit: unit.name, netns: drivers.netns),
                      let data = FileManager.default.contents(
                          atPath: SystemdNames.bridgeServiceDirectory(runRoot: runRoot, bridge: bridge, netns: drivers.netns) + "/dnsmasq.conf"),
                      data.count < 1 << 20 else { continue }
                state.bridgeServiceConfigs[unit.name] = String(decoding: data, as: UTF8.self)
            }
            return state
        }

        /// resolved's DNS per link, when the manifests declare some or mooring has bridges it may have set some on.
        private func observeNameservers(_ links: [ObservedLink], declared: Bool) -> ([String: Nameservers], String?) {
            let ownBridges = links.contains { $0.kind.isBridge && $0.isOwnedByMooring }
            guard declared || ownBridges else { return ([:], nil) }
            if let netns = drivers.netns {
                return ([:], declared ? "systemd-resolved serves the host's own network namespace, not netns \(netns)" : nil)
            }
            do {
                let byIndex = try ResolvedDriver().nameserversByLink()
                let names = Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
                return (Dictionary(byIndex.compactMap { index, value in names[index].map { ($0, value) } }, uniquingKeysWith: { first, _ in first }), nil)
            } catch {
                return ([:], declared ? ResolvedDriver.problem(error) : nil)
            }
        }
    }

    /// Executes one action that is not a link action (nftables, sysctls) in the target namespace.
    public func applyOther(_ action: Action) throws {
        let nftables = self.nftables
        switch action {
        case let .replaceNftTable(table): try nftThread.run { try nftables.replace(with: table) }
        case .deleteNftTable: try nftThread.run { try nftables.delete() }
        case let .replaceGuestFilter(table): try nftThread.run { try nftables.replace(with: table) }
        case let .deleteGuestFilter(family): try nftThread.run { try nftables.delete(family: family) }
        case let .setSysctl(name, value): try thread.run { try SysctlDriver.write(name, value) }
        case let .setNameservers(link, nameservers):
            let index = if_nametoindex(link)
            guard index > 0 else { throw DriverError("cannot set DNS on \(link): \(String(cString: strerror(errno)))") }
            try ResolvedDriver().set(nameservers, onLinkIndex: Int(index))
        case let .fetchImage(fetch): try ImageStoreWriter.fetch(fetch, showProgress: Terminal.isInteractive)
        case let .createVMDisk(layer): try ImageStoreWriter.createVMDisk(layer)
        case let .deleteFromImageStore(root, path): try ImageStoreWriter.delete(root: root, path: path)
        default: throw DriverError("\(ActionText.describe(action)) is not handled here")
        }
    }

    /// Executes a run of link actions in the target namespace.
    public func applyLinks(_ actions: [Action], flushAfter: @escaping @Sendable (Int) -> Bool,
                           completed: @escaping @Sendable (Int) -> Void) throws {
        let netlink = self.netlink
        try thread.run { try netlink.apply(actions, flushAfter: flushAfter, completed: { completed($0) }) }
    }

    /// Base chains of the other nftables tables in the target namespace (for `mooring doctor`).
    public func foreignBaseChains() throws -> [(family: String, table: String, chain: NftChain)] {
        let nftables = self.nftables
        return try nftThread.run { try nftables.foreignBaseChains().map { ($0.family, $0.table, $0.chain) } }
    }

    /// Runs `body` on the target namespace's thread (sockets opened there belong to that namespace).
    public func runInNamespace<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        try thread.run(body)
    }

    /// 802.1Q needs the 8021q module: loaded, or available to load.
    public static func kernelHasVLAN() -> Bool {
        if FileManager.default.fileExists(atPath: "/sys/module/8021q") { return true }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let directory = "/lib/modules/\(release)/kernel/net/8021q"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.contains { $0.hasPrefix("8021q.ko") }
    }
}
