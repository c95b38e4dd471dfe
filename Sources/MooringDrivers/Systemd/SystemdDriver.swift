import CSystemd
import Foundation
import MooringModel
import MooringPlan

/// MicroVM units over sd-bus: list, start (transient), watch, stop. No systemctl or systemd-run.
public final class SystemdDriver: @unchecked Sendable {
    private let bus: SystemdBus
    private let userManager: Bool
    /// Job paths -> results, filled by the JobRemoved signal handler.
    private let jobs = JobResults()
    private var jobSlot: OpaquePointer?

    /// How long a started VMM must stay running before it counts as started.
    public var settleTime: TimeInterval = 1.0
    /// How long to wait for systemd to finish a start or stop job.
    public var jobTimeout: TimeInterval = 60

    public init(user: Bool) throws {
        bus = try SystemdBus(user: user)
        userManager = user
        // The match goes in before any job is created, so no JobRemoved can be missed.
        let rc = sd_bus_match_signal(bus.bus, &jobSlot, SystemdBus.managerDestination, SystemdBus.managerPath,
                                     SystemdBus.managerInterface, "JobRemoved", { message, userdata, _ in
            guard let message, let userdata else { return 0 }
            let results = Unmanaged<JobResults>.fromOpaque(userdata).takeUnretainedValue()
            let reply = BusMessage(adopting: sd_bus_message_ref(message))
            guard (try? reply.readUInt32()) != nil, let job = try? reply.readString(BusType.objectPath),
                  (try? reply.readString()) != nil, let result = try? reply.readString() else { return 0 }
            results.finished[job] = result
            return 0
        }, Unmanaged.passUnretained(jobs).toOpaque())
        if rc < 0 { throw DriverError("sd-bus: cannot watch systemd jobs: \(String(cString: strerror(-rc)))") }
        try bus.callManager("Subscribe", [])
    }

    deinit { sd_bus_slot_unref(jobSlot) }

    // MARK: Observe

    /// `mooring-vm-*.service` units, with their state, main PID, restart count, spec hash and namespace; for a
    /// failed one also why, and the last lines its VMM wrote to `<runRoot>/vms/<vm>/vmm.log`.
    public func listUnits(runRoot: String = "/run/mooring") throws -> [ObservedUnit] {
        let call = try bus.methodCall("ListUnitsByPatterns")
        try call.append(strings: [])
        // The MicroVMs' units and the bridges' services: one call.
        try call.append(strings: ["\(SystemdNames.unitPrefix)*.service", "\(SystemdNames.bridgeServicePrefix)*.service"])
        let reply = try bus.call(call)
        var listed: [(name: String, active: String, sub: String, path: String)] = []
        _ = try reply.enter(BusType.array, "(ssssssouso)")
        while try reply.enter(BusType.structure, "ssssssouso") {
            let name = try reply.readString()
            _ = try reply.readString()                       // description
            _ = try reply.readString()                       // load state
            let active = try reply.readString()
            let sub = try reply.readString()
            _ = try reply.readString()                       // following
            let path = try reply.readString(BusType.objectPath)
            _ = try reply.readUInt32()                       // job id
            _ = try reply.readString()                       // job type
            _ = try reply.readString(BusType.objectPath)     // job path
            try reply.exit()
            listed.append((name, active, sub, path))
        }
        try reply.exit()
        return listed.map { unit in
            let service = "org.freedesktop.systemd1.Service"
            let environment = (try? bus.stringsProperty(unit.path, service, "Environment")) ?? []
            let hash = environment.first { $0.hasPrefix("MOORING_SPEC_HASH=") }.map { String($0.dropFirst("MOORING_SPEC_HASH=".count)) }
            let netns = (try? bus.stringProperty(unit.path, service, "NetworkNamespacePath")).flatMap { $0.isEmpty ? nil : $0 }
            var observed = ObservedUnit(name: unit.name, activeState: unit.active, subState: unit.sub,
                                        mainPID: Int((try? bus.uint32Property(unit.path, service, "MainPID")) ?? 0),
                                        specHash: hash, restarts: Int((try? bus.uint32Property(unit.path, service, "NRestarts")) ?? 0),
                                        networkNamespacePath: netns)
            observed.policyHash = environment.first { $0.hasPrefix("MOORING_POLICY_HASH=") }.map { String($0.dropFirst("MOORING_POLICY_HASH=".count)) }
            if unit.active == "failed" || unit.sub == "auto-restart" {
                let result = (try? bus.stringProperty(unit.path, service, "Result")) ?? "?"
                let ended = UnitDiagnosis.mainProcessText(code: try? bus.int32Property(unit.path, service, "ExecMainCode"),
                                                          status: try? bus.int32Property(unit.path, service, "ExecMainStatus"))
                observed.failure = "Result=\(result)" + (ended.map { ", main process \($0)" } ?? "")
                    + (observed.restarts > 0 ? ", \(observed.restarts) restart(s)" : "")
                // Only a valid VM name becomes a path (a hostile unit name must not pick the file read).
                if let vm = SystemdNames.microVM(forUnit: unit.name) {
                    observed.lastOutput = Self.lastLines(of: "\(runRoot)/vms/\(vm)/vmm.log", count: 5)
                }
                // Output sent to the journal: the unit's last lines there.
                if observed.lastOutput.isEmpty {
                    observed.lastOutput = UnitJournal.lines(unit: unit.name, userManager: userManager,
                                                            since: Date().addingTimeInterval(-86_400), limit: 5).lines
                }
            }
            return observed
        }
    }

    // MARK: Execute

    /// Starts the units (all jobs first, then one wait), then checks each VMM stays up for the settle time.
    /// A restart stops the old unit first: a transient unit's command line cannot change in place. Returns
    /// how each of those stops went.
    @discardableResult
    public func start(_ specs: [UnitSpec], restarting: Set<String>) throws -> [UnitStopReport] {
        var stops: [UnitStopReport] = []
        for spec in specs where restarting.contains(spec.name) {
            if let stop = try stop(spec.name, runDirectory: spec.runDirectory) {
                stops.append(UnitStopReport(unit: spec.name, microVM: spec.microVM, stop: stop))
            }
        }
        var started: [(spec: UnitSpec, job: String, logOffset: UInt64)] = []
        let since = Date()
        for spec in specs {
            try prepare(spec)
            // A failed transient unit keeps its name until reset.
            _ = try? bus.callManager("ResetFailedUnit", [spec.name])
            let offset = (spec.logFile.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? UInt64 }) ?? 0
            let job = try startTransient(spec)
            started.append((spec, job, offset ?? 0))
        }
        for entry in started {
            let result = try wait(forJob: entry.job, what: "start \(entry.spec.name)")
            guard result == "done" else {
                throw UnitFailure(unit: entry.spec.name, message: "the start job ended with \"\(result)\"",
                                  diagnosis: diagnose(entry.spec.name, since: since),
                                  output: Self.tail(entry.spec, from: entry.logOffset))
            }
        }
        try settle(started.map { ($0.spec, $0.logOffset) }, since: since)
        return stops
    }

    /// Stops a unit: systemd runs its ExecStop (`mooring stop-vm`: the power button, then a wait), then
    /// terminates what is left. Returns how the guest went down, read from the stop command's record in
    /// `runDirectory`; nil when the unit was not running.
    @discardableResult
    public func stop(_ name: String, runDirectory: String?) throws -> GuestStop? {
        guard let path = try unitPath(name) else { return nil }
        let state = try? bus.stringProperty(path, "org.freedesktop.systemd1.Unit", "ActiveState")
        let running = state == "active" || state == "activating" || state == "reloading"
        // The stop command's wait, then systemd's SIGTERM wait, each up to TimeoutStopUSec.
        let stopTimeout = Double((try? bus.uint64Property(path, "org.freedesktop.systemd1.Service", "TimeoutStopUSec")) ?? 0) / 1e6
        // The stop record is in the VMM's directory: removed and read only by descriptor, and read only if it is
        // a regular file with one link.
        let vmmDirectory = runDirectory.flatMap { try? Self.runDirectory($0, create: false).subdirectory(UnitSpec.vmmDirectoryName, checked: false) }
        try? vmmDirectory?.remove(UnitSpec.stopRecordName)
        let job: String
        do {
            job = try bus.callManager("StopUnit", [name, "replace"]).readString(BusType.objectPath)
        } catch let error as BusError where error.name == "org.freedesktop.systemd1.NoSuchUnit" {
            return nil
        }
        let result = try wait(forJob: job, what: "stop \(name)", timeout: max(jobTimeout, 2 * stopTimeout + 10))
        guard ["done", "skipped"].contains(result) else {
            throw UnitFailure(unit: name, message: "the stop job ended with \"\(result)\"", diagnosis: diagnose(name, since: nil), output: "")
        }
        _ = try? bus.callManager("ResetFailedUnit", [name])
        guard running else { return nil }
        if let vmmDirectory, let data = try? vmmDirectory.read(UnitSpec.stopRecordName, untrusted: true, limit: 64 << 10),
           let stop = try? JSONDecoder().decode(GuestStop.self, from: data) {
            return stop
        }
        // No record: the unit had no stop command (an older mooring started it), or the command could not run.
        return GuestStop(outcome: .forced, seconds: 0,
                         detail: "no stop record (a unit an older mooring started, or its stop command failed): systemd terminated the VMM")
    }

    /// Lays out a VM's run directory by descriptor (`DirectoryHandle`), so nothing a VMM can change is followed:
    /// `<run root>/vms/<vm>` is root's and only readable by the VMM (the seed disk and configs are written there,
    /// each by a fresh temporary, `fchown`/`fchmod`, then `renameat`); `vmm/` below it is removed whole and made
    /// afresh, writable by the VMM's group only, so nothing an earlier VMM left (a console, a socket, a symlink)
    /// is found by the next one or by root. It stays root's (mode 0770): mooring's units have no CAP_DAC_OVERRIDE,
    /// and an owner may remove what is in its directory without it; root writes nothing there.
    private func prepare(_ spec: UnitSpec) throws {
        try Self.checkImageFiles(spec)
        let runDirectory = try Self.runDirectory(spec.runDirectory, create: true)
        try runDirectory.own(user: geteuid(), group: getegid(), mode: 0o755)
        try runDirectory.remove(UnitSpec.vmmDirectoryName)
        let vmm = try runDirectory.subdirectory(UnitSpec.vmmDirectoryName, createMode: 0o770, checked: false)
        try vmm.own(user: geteuid(), group: spec.runDirectoryGroup, mode: 0o770)
        for file in spec.files {
            try runDirectory.replaceFile(try Self.name(file.path, in: spec.runDirectory), contents: Array(file.contents.utf8),
                                         group: spec.runDirectoryGroup, mode: 0o640)
        }
        if let seed = spec.seedDisk {
            try runDirectory.replaceFile(try Self.name(seed.path, in: spec.runDirectory), contents: try SeedDiskImage.bytes(seed),
                                         group: spec.runDirectoryGroup, mode: 0o640)
        }
        if let identity = spec.identity {
            try UserDatabase.write(identity)
            for disk in spec.ownedDisks { try Self.hand(disk, to: identity) }
        }
    }

    /// A file the unit binds into its sandbox from a pulled image (`<image root>/.digests/sha256-<hex>/...`)
    /// must be that image's: a symlink in a registry's image that leads elsewhere (`disk.img -> /etc/shadow`, a
    /// kernel -> a host disk) would hand the guest a host file. Resolved here, at start, after the pull.
    static func checkImageFiles(_ spec: UnitSpec) throws {
        var paths: [String] = []
        for property in spec.properties {
            switch property {
            case let .binds(_, bound): paths += bound
            case let .strings(name, values) where name == "ReadWritePaths": paths += values
            default: break
            }
        }
        for path in paths {
            guard let marker = path.range(of: "/\(ImageStore.digestsDirectory)/sha256-") else { continue }
            let rest = path[marker.upperBound...]
            guard let end = rest.firstIndex(of: "/") else { continue }
            let image = String(path[..<end])
            guard let resolved = realpath(path, nil) else { continue }  // missing: the VMM says so itself
            defer { free(resolved) }
            let real = String(cString: resolved)
            let imageReal = realpath(image, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? image
            guard real.hasPrefix(imageReal + "/") else {
                throw DriverError("\(path) leads out of its image, to \(real): refusing to give it to \(spec.name) "
                                  + "(a symlink in the image; the image is not to be trusted)")
            }
        }
    }

    /// Gives a writable disk to the VM's own user (mode 0600), on the descriptor of what was opened: a regular
    /// file with one link, root's or a VM identity's (the planner refused any other owner, and a disk two VMs
    /// name). No other VMM can open it then, even where its path is visible.
    static func hand(_ path: String, to identity: UserRecord) throws {
        let fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw DriverError("cannot open the disk \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else {
            throw DriverError("refusing to hand \(path) to \(identity.name): not a regular file with one link")
        }
        if info.st_uid == identity.uid, info.st_gid == identity.gid, info.st_mode & 0o7777 == 0o600 { return }
        // Back to root first when another user has it: changing another user's file's mode takes CAP_FOWNER, which
        // mooring's units do not have (CAP_CHOWN they do).
        guard info.st_uid == geteuid() || fchown(fd, geteuid(), UInt32.max) == 0,
              fchmod(fd, 0o600) == 0, fchown(fd, identity.uid, identity.gid) == 0 else {
            throw DriverError("cannot hand the disk \(path) to \(identity.name): \(String(cString: strerror(errno)))")
        }
    }

    /// A VM's run directory, `<run root>/vms/<vm>`, opened by descriptor; every directory on the way must be
    /// root's (`DirectoryHandle.Trust.ownedAll`). The directories above it are made searchable by all (mode set
    /// outright: units run with UMask=0077), since the VMM must pass through them.
    static func runDirectory(_ path: String, create: Bool) throws -> DirectoryHandle {
        let parent = (path as NSString).deletingLastPathComponent
        let vms = try DirectoryHandle.open(parent, createMode: create ? 0o755 : nil)
        // Set outright when preparing: the VMM passes through it.
        if create { try vms.own(user: geteuid(), group: getegid(), mode: 0o755) }
        return try vms.subdirectory((path as NSString).lastPathComponent, createMode: create ? 0o755 : nil)
    }

    /// The name of a file the plan puts directly in the run directory.
    private static func name(_ path: String, in directory: String) throws -> String {
        guard (path as NSString).deletingLastPathComponent == directory else {
            throw DriverError("\(path) is not directly in the run directory \(directory)")
        }
        return (path as NSString).lastPathComponent
    }

    private func startTransient(_ spec: UnitSpec) throws -> String {
        let call = try bus.methodCall("StartTransientUnit")
        try call.append(spec.name)
        try call.append("fail")
        try call.container(BusType.array, "(sv)") {
            try call.property("Description", "s") { try call.append(spec.description) }
            try command("ExecStart", spec.argv, in: call)
            if let stop = spec.stopCommand { try command("ExecStop", stop, in: call) }
            for property in spec.properties { try append(property, to: call) }
            try call.property("Environment", "as") { try call.append(strings: spec.environment) }
            if let logFile = spec.logFile {
                try call.property("StandardOutputFileToAppend", "s") { try call.append(logFile) }
                try call.property("StandardErrorFileToAppend", "s") { try call.append(logFile) }
            }
            if let netns = spec.networkNamespacePath {
                try call.property("NetworkNamespacePath", "s") { try call.append(netns) }
            }
        }
        try call.container(BusType.array, "(sa(sv))") {}
        do {
            return try bus.call(call).readString(BusType.objectPath)
        } catch let error as BusError where error.name == "org.freedesktop.systemd1.UnitExists" {
            throw UnitFailure(unit: spec.name, message: "a unit of that name already exists (started for another target?)")
        } catch let error as BusError {
            throw UnitFailure(unit: spec.name, message: "systemd refused to start it: \(error)")
        }
    }

    private func command(_ name: String, _ argv: [String], in call: BusMessage) throws {
        try call.property(name, "a(sasb)") {
            try call.container(BusType.array, "(sasb)") {
                try call.container(BusType.structure, "sasb") {
                    try call.append(argv[0])
                    try call.append(strings: argv)
                    try call.append(false)
                }
            }
        }
    }

    /// One property in its D-Bus type, as `UnitProperty` names it.
    private func append(_ property: UnitProperty, to call: BusMessage) throws {
        switch property {
        case let .string(name, value): try call.property(name, "s") { try call.append(value) }
        case let .strings(name, values): try call.property(name, "as") { try call.append(strings: values) }
        case let .uint32(name, value): try call.property(name, "u") { try call.append(value) }
        case let .uint64(name, value): try call.property(name, "t") { try call.append(value) }
        case let .bool(name, value): try call.property(name, "b") { try call.append(value) }
        case let .pairs(name, values):
            try call.property(name, "a(ss)") {
                try call.container(BusType.array, "(ss)") {
                    for pair in values {
                        try call.container(BusType.structure, "ss") { try call.append(pair.first); try call.append(pair.second) }
                    }
                }
            }
        case let .list(name, allow, values):
            try call.property(name, "(bas)") {
                try call.container(BusType.structure, "bas") { try call.append(allow); try call.append(strings: values) }
            }
        case let .byteStrings(name, values):
            try call.property(name, "aay") {
                try call.container(BusType.array, "ay") { for value in values { try call.append(bytes: value) } }
            }
        case let .binds(name, paths):
            try call.property(name, "a(ssbt)") {
                try call.container(BusType.array, "(ssbt)") {
                    for path in paths {
                        try call.container(BusType.structure, "ssbt") {
                            try call.append(path); try call.append(path); try call.append(false)
                            try call.append(UInt64(16384))  // MS_REC
                        }
                    }
                }
            }
        }
    }

    private func wait(forJob job: String, what: String, timeout: TimeInterval? = nil) throws -> String {
        let limit = timeout ?? jobTimeout
        let deadline = Date().addingTimeInterval(limit)
        while jobs.finished[job] == nil {
            if Date() > deadline { throw DriverError("\(what): systemd did not finish the job within \(Int(limit)) s") }
            bus.pump(waitMicroseconds: 100_000)
        }
        return jobs.finished.removeValue(forKey: job)!
    }

    /// A finished start job is not a running VM: each unit must stay active, with the same main process, until
    /// its VMM says it runs (`UnitReadiness`), or for the settle time where it cannot say. A VMM that exits
    /// at once is reported with the last lines of its output. The settle time bounds the wait either way: a
    /// unit still up then counts as started, as before probes existed.
    private func settle(_ units: [(spec: UnitSpec, logOffset: UInt64)], since: Date) throws {
        guard !units.isEmpty else { return }
        var firstPID: [String: UInt32] = [:]
        var running: Set<String> = []
        let deadline = Date().addingTimeInterval(settleTime)
        repeat {
            for (spec, offset) in units {
                let path = try unitPath(spec.name)
                let state = (try? path.map { try bus.stringProperty($0, "org.freedesktop.systemd1.Unit", "ActiveState") }) ?? nil
                let pid = (try? path.map { try bus.uint32Property($0, "org.freedesktop.systemd1.Service", "MainPID") }) ?? nil
                if firstPID[spec.name] == nil, let pid, pid != 0 { firstPID[spec.name] = pid }
                if state != "active" || (pid != nil && firstPID[spec.name] != nil && pid != firstPID[spec.name]) {
                    throw UnitFailure(unit: spec.name, message: "the VMM exited right after starting",
                                      diagnosis: diagnose(spec.name, since: since), output: Self.tail(spec, from: offset))
                }
                // Checked after the state: a VMM that answered had the main process just seen active.
                if !running.contains(spec.name), VMMReadiness.isRunning(spec.readiness) { running.insert(spec.name) }
            }
            if running.count == units.count { return }
            bus.pump(waitMicroseconds: 20_000)
        } while Date() < deadline
    }

    /// systemd's account of the unit's last run, read from the manager and its journal.
    private func diagnose(_ name: String, since: Date?) -> String {
        let path = (try? unitPath(name)) ?? nil
        let service = "org.freedesktop.systemd1.Service", unit = "org.freedesktop.systemd1.Unit"
        func read<T>(_ body: (String) throws -> T) -> T? { path.flatMap { try? body($0) } }
        let active = read { try bus.stringProperty($0, unit, "ActiveState") }
        let sub = read { try bus.stringProperty($0, unit, "SubState") }
        let journal = UnitJournal.lines(unit: name, userManager: userManager, since: since ?? Date().addingTimeInterval(-60))
        return UnitDiagnosis(result: read { try bus.stringProperty($0, service, "Result") },
                             state: active.map { "\($0)/\(sub ?? "?")" },
                             mainCode: read { try bus.int32Property($0, service, "ExecMainCode") },
                             mainStatus: read { try bus.int32Property($0, service, "ExecMainStatus") },
                             restarts: read { try bus.uint32Property($0, service, "NRestarts") },
                             journal: journal.lines, journalNote: journal.note).description
    }

    private func unitPath(_ name: String) throws -> String? {
        do {
            return try bus.callManager("GetUnit", [name]).readString(BusType.objectPath)
        } catch let error as BusError where error.name == "org.freedesktop.systemd1.NoSuchUnit" {
            return nil
        }
    }

    /// The last `count` lines of a file, reading at most its last 16 KiB.
    static func lastLines(of path: String, count: Int) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 16_384 ? size - 16_384 : 0)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").suffix(count).map(String.init)
    }

    /// The last lines the VMM wrote since `offset`, and the end of its serial console.
    static func tail(_ spec: UnitSpec, from offset: UInt64, lines: Int = 10) -> String {
        var text = ""
        // Output that went to the journal is in the diagnosis already (the unit's journal lines).
        if let logFile = spec.logFile, let handle = FileHandle(forReadingAtPath: logFile) {
            try? handle.seek(toOffset: offset)
            let data = (try? handle.readToEnd()) ?? Data()
            try? handle.close()
            text = String(decoding: data, as: UTF8.self)
        }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// Results of systemd jobs, keyed by job object path.
private final class JobResults {
    var finished: [String: String] = [:]
}

/// A unit that would not start or stay up: systemd's account of it, and what its VMM printed.
public struct UnitFailure: Error, CustomStringConvertible, Sendable {
    public var unit: String
    public var message: String
    /// `Result=`, how the main process ended and the journal lines (`UnitDiagnosis`).
    public var diagnosis: String
    public var output: String

    public init(unit: String, message: String, diagnosis: String = "", output: String = "") {
        self.unit = unit
        self.message = message
        self.diagnosis = diagnosis
        self.output = output
    }

    public var description: String {
        var text = "\(unit): \(message)"
        if !diagnosis.isEmpty { text += "; systemd says: \(diagnosis)" }
        if !output.isEmpty { text += "\nthe VMM's last output:\n\(output)" }
        return text
    }
}
