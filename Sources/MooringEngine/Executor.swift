import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Synchronization

/// Walks a plan's changes in order and hands them to the drivers, runs of link actions at once. Changes whose
/// phase runs alongside the links (`Phase.runsAlongsideLinks`: nftables and sysctls) run on a thread of their own. Stops at the first failure; what was done stays done, and the next
/// run picks up from there.
public struct Executor {
    public let drivers: HostDrivers
    /// Called after each change completes, with its position in the plan.
    public var progress: @Sendable (Int, Change) -> Void = { _, _ in }
    /// How each MicroVM that was stopped (or restarted) went down, in order.
    public let stops = StopReports()
    /// Called once every change alongside the links has succeeded (at once when there are none), on the
    /// thread that ran them: what they changed can be read back from then on.
    public var alongsideDone: @Sendable () -> Void = {}

    // Test hooks exist only in debug (test) builds: a release binary ignores these variables, so no environment
    // can make a production apply stop or stall at a chosen point.
    #if MOORING_TEST_HOOKS
    /// Test hook: `MOORING_TEST_KILL_AFTER=k` kills the process with SIGKILL right after the k-th change
    /// (1-based) completes, so crash tests can stop an apply at an exact point.
    static let killAfter: Int? = ProcessInfo.processInfo.environment["MOORING_TEST_KILL_AFTER"].flatMap(Int.init)
    /// Test hook: `MOORING_TEST_PAUSE_AFTER=k` pauses two seconds after the k-th change, so tests can look at
    /// a host part-way through an apply.
    static let pauseAfter: Int? = ProcessInfo.processInfo.environment["MOORING_TEST_PAUSE_AFTER"].flatMap(Int.init)
    #else
    static let killAfter: Int? = nil
    static let pauseAfter: Int? = nil
    #endif

    static func isBreakpoint(_ number: Int) -> Bool { number == killAfter || number == pauseAfter }

    /// Runs the test hooks for the change just completed (1-based `number`).
    static func reached(_ number: Int) {
        if number == pauseAfter { usleep(2_000_000) }
        if number == killAfter { kill(getpid(), SIGKILL) }
    }

    public init(drivers: HostDrivers) { self.drivers = drivers }

    /// Returns how many changes completed; throws `ExecutionError` naming the failed change.
    @discardableResult
    public func execute(_ plan: Plan) throws -> Int {
        let changes = plan.changes
        let done = CompletionCounter()
        func finish(_ position: Int, _ change: Change) {
            done.increment()
            progress(position, change)
            Self.reached(position + 1)
        }
        let independent = changes.indices.filter { changes[$0].phase.runsAlongsideLinks }
        let sideline = runAlongside(independent.map { ($0, changes[$0]) }, done: done)
        do {
            try executeInOrder(changes, done: done, finish: finish)
        } catch {
            // Nothing keeps running behind the caller's back: the changes alongside finish first.
            _ = sideline.wait()
            throw error
        }
        if let failure = sideline.wait() { throw failure }
        return done.value
    }

    /// The changes that depend on each other (links, then units), in plan order.
    private func executeInOrder(_ changes: [Change], done: CompletionCounter,
                                finish: (Int, Change) -> Void) throws {
        // An image that cannot be pulled (the registry refused it, a layer is no file system, the disk is full)
        // holds back only what uses it: the changes that name its directory are skipped, the rest run, and the
        // failure is reported once they have.
        var failedImages: [String] = []
        var imageFailure: ExecutionError?
        func usesFailedImage(_ change: Change) -> Bool {
            guard !failedImages.isEmpty else { return false }
            let paths: [String]
            switch change.operation {
            // Its argv (a kernel) and what it binds (a layer's backing disk).
            case let .startUnit(spec), let .restartUnit(spec):
                paths = spec.argv + spec.properties.flatMap { property -> [String] in
                    if case let .binds(_, bound) = property { bound } else { [] }
                }
            case let .createVMDisk(layer): paths = [layer.backing]
            default: return false
            }
            return paths.contains { path in failedImages.contains { path.contains($0 + "/") } }
        }
        var position = 0
        while position < changes.count {
            if changes[position].phase.runsAlongsideLinks {
                position += 1
                continue
            }
            var end = position
            while end < changes.count && changes[end].operation.isLinkAction { end += 1 }
            if end > position {
                let run = Array(changes[position..<end])
                let base = position
                let progress = self.progress
                do {
                    try drivers.applyLinks(run.map(\.operation), flushAfter: { index in
                        Executor.isBreakpoint(base + index + 1)
                    }, completed: { index in
                        done.increment()
                        progress(base + index, run[index])
                        Executor.reached(base + index + 1)
                    })
                } catch let error as LinkOperationError {
                    throw ExecutionError(change: run[error.position], message: error.description,
                                         completed: done.value)
                } catch {
                    let failed = max(0, min(done.value - base, run.count - 1))
                    throw ExecutionError(change: run[failed], message: "\(error)", completed: done.value)
                }
                position = end
                continue
            }
            // Consecutive unit starts go to systemd together and settle together.
            if changes[position].operation.unitToStart != nil {
                var end = position
                while end < changes.count, changes[end].operation.unitToStart != nil { end += 1 }
                let run = Array(changes[position..<end]).filter { !usesFailedImage($0) }
                guard !run.isEmpty else {
                    position = end
                    continue
                }
                let restarting = Set(run.compactMap { change -> String? in
                    if case let .restartUnit(spec) = change.operation { return spec.name } else { return nil }
                })
                do {
                    let stopped = try drivers.systemdDriver().start(run.compactMap(\.operation.unitToStart), restarting: restarting)
                    stops.append(stopped)
                } catch let failure as UnitFailure {
                    let failed = run.first { $0.operation.unitToStart?.name == failure.unit } ?? run[0]
                    throw ExecutionError(change: failed, message: failure.description, completed: done.value)
                } catch {
                    throw ExecutionError(change: run[0], message: "\(error)", completed: done.value)
                }
                for offset in position..<end where run.contains(changes[offset]) { finish(offset, changes[offset]) }
                position = end
                continue
            }
            let change = changes[position]
            if usesFailedImage(change) {
                position += 1
                continue
            }
            do {
                if case let .stopUnit(name, runDirectory) = change.operation {
                    if let stop = try drivers.systemdDriver().stop(name, runDirectory: runDirectory) {
                        stops.append([UnitStopReport(unit: name, microVM: SystemdNames.microVM(forUnit: name), stop: stop)])
                    }
                    if let runDirectory, RunDirectory.isRemovable(runDirectory) {
                        // By descriptor: whatever the VMM left in its directory (symlinks included) is removed, never followed.
                        let parent = (runDirectory as NSString).deletingLastPathComponent
                        try? DirectoryHandle.open(parent).remove((runDirectory as NSString).lastPathComponent)
                    }
                    // Its own user goes with it (records that name this VM only).
                    if let microVM = SystemdNames.microVM(forUnit: name) {
                        UserDatabase.remove(microVM: microVM, name: VMIdentities.userName(forMicroVM: microVM))
                    }
                } else {
                    try drivers.applyOther(change.operation)
                }
            } catch {
                guard case let .fetchImage(fetch) = change.operation else {
                    throw ExecutionError(change: change, message: "\(error)", completed: done.value)
                }
                failedImages.append(fetch.directory)
                imageFailure = imageFailure ?? ExecutionError(change: change, message: "image \(fetch.reference): \(error)", completed: done.value)
                position += 1
                continue
            }
            finish(position, change)
            position += 1
        }
        if let imageFailure { throw imageFailure }
    }

    /// Runs `changes` in order on a thread of their own; `wait()` gives the first failure, if any.
    private func runAlongside(_ changes: [(Int, Change)], done: CompletionCounter) -> Sideline {
        let sideline = Sideline()
        guard !changes.isEmpty else {
            alongsideDone()
            sideline.finish(nil)
            return sideline
        }
        let drivers = self.drivers, progress = self.progress, alongsideDone = self.alongsideDone
        let completed = done
        Thread.detachNewThread {
            for (position, change) in changes {
                do {
                    try drivers.applyOther(change.operation)
                } catch {
                    sideline.finish(ExecutionError(change: change, message: "\(error)", completed: completed.value))
                    return
                }
                completed.increment()
                progress(position, change)
                Executor.reached(position + 1)
            }
            alongsideDone()
            sideline.finish(nil)
        }
        return sideline
    }
}

/// The outcome of the changes run alongside the links.
private final class Sideline: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<ExecutionError?>(nil)

    func finish(_ error: ExecutionError?) {
        failure.withLock { $0 = error }
        done.signal()
    }

    func wait() -> ExecutionError? {
        done.wait()
        return failure.withLock { $0 }
    }
}

/// The stops an apply made, for its report.
public final class StopReports: Sendable {
    private let reports = Mutex<[UnitStopReport]>([])
    public var all: [UnitStopReport] { reports.withLock { $0 } }
    func append(_ more: [UnitStopReport]) { reports.withLock { $0 += more } }
}

/// Changes completed so far, counted from the link thread and the thread running alongside.
private final class CompletionCounter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func increment() { count.add(1, ordering: .relaxed) }
}

/// An apply that stopped at a change the host refused.
public struct ExecutionError: Error, CustomStringConvertible, Sendable {
    public var change: Change
    public var message: String
    /// Changes completed before the failure.
    public var completed: Int
    /// The stops made before the failure.
    public var stops: [UnitStopReport] = []

    public var description: String {
        "\(change.resource) (\(change.group)): \(message)"
    }
}

/// A MicroVM's or a bridge service's run directory is removed recursively when its unit goes; the plan derives
/// it only from a valid name, and this second check keeps any other path (`..`, a symlinked or foreign
/// directory) from ever being removed: `<run root>/vms/<valid name>`, `<run root>/bridges/[<netns>.]<valid
/// name>`, a real directory owned by the user running mooring.
enum RunDirectory {
    static func isRemovable(_ path: String) -> Bool {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        let valid: Bool
        switch url.deletingLastPathComponent().lastPathComponent {
        case "vms": valid = ResourceName.isValid(name)
        case "bridges": valid = !name.hasPrefix(".") && name.split(separator: ".").last.map { ResourceName.isValid(String($0)) } == true
        default: valid = false
        }
        guard url.standardizedFileURL.path == path, valid else { return false }
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid()
    }
}
