import Foundation
import MooringDrivers
import MooringModel
import MooringPlanner
import Synchronization

/// Walks a plan's changes in order and hands them to the drivers, runs of link actions at once.
/// Stops at the first failure; what was done stays done, and the next run picks up from there.
public struct Executor {
    public let drivers: HostDrivers
    /// Called after each change completes, with its position in the plan.
    public var progress: @Sendable (Int, Change) -> Void = { _, _ in }

    /// Test hook: `MOORING_TEST_KILL_AFTER=k` kills the process with SIGKILL right after the k-th change
    /// (1-based) completes, so crash tests can stop an apply at an exact point.
    static let killAfter: Int? = ProcessInfo.processInfo.environment["MOORING_TEST_KILL_AFTER"].flatMap(Int.init)
    /// Test hook: `MOORING_TEST_PAUSE_AFTER=k` pauses two seconds after the k-th change, so tests can look at
    /// a host part-way through an apply.
    static let pauseAfter: Int? = ProcessInfo.processInfo.environment["MOORING_TEST_PAUSE_AFTER"].flatMap(Int.init)

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
        let done = Atomic<Int>(0)
        func finish(_ position: Int, _ change: Change) {
            done.add(1, ordering: .relaxed)
            progress(position, change)
            Self.reached(position + 1)
        }
        var position = 0
        while position < changes.count {
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
                        done.add(1, ordering: .relaxed)
                        progress(base + index, run[index])
                        Executor.reached(base + index + 1)
                    })
                } catch let error as LinkOperationError {
                    throw ExecutionError(change: run[error.position], message: error.description,
                                         completed: done.load(ordering: .relaxed))
                } catch {
                    let failed = max(0, min(done.load(ordering: .relaxed) - base, run.count - 1))
                    throw ExecutionError(change: run[failed], message: "\(error)", completed: done.load(ordering: .relaxed))
                }
                position = end
                continue
            }
            // Consecutive unit starts go to systemd together and settle together.
            if changes[position].operation.unitToStart != nil {
                var end = position
                while end < changes.count, changes[end].operation.unitToStart != nil { end += 1 }
                let run = Array(changes[position..<end])
                let restarting = Set(run.compactMap { change -> String? in
                    if case let .restartUnit(spec) = change.operation { return spec.name } else { return nil }
                })
                do {
                    try drivers.systemdDriver().start(run.compactMap(\.operation.unitToStart), restarting: restarting)
                } catch let failure as UnitFailure {
                    let failed = run.first { $0.operation.unitToStart?.name == failure.unit } ?? run[0]
                    throw ExecutionError(change: failed, message: failure.description, completed: done.load(ordering: .relaxed))
                } catch {
                    throw ExecutionError(change: run[0], message: "\(error)", completed: done.load(ordering: .relaxed))
                }
                for (offset, change) in run.enumerated() { finish(position + offset, change) }
                position = end
                continue
            }
            let change = changes[position]
            do {
                if case let .stopUnit(name, runDirectory) = change.operation {
                    try drivers.systemdDriver().stop(name)
                    if let runDirectory { try? FileManager.default.removeItem(atPath: runDirectory) }
                } else {
                    try drivers.applyOther(change.operation)
                }
            } catch {
                throw ExecutionError(change: change, message: "\(error)", completed: done.load(ordering: .relaxed))
            }
            finish(position, change)
            position += 1
        }
        return done.load(ordering: .relaxed)
    }
}

/// An apply that stopped at a change the host refused.
public struct ExecutionError: Error, CustomStringConvertible, Sendable {
    public var change: Change
    public var message: String
    /// Changes completed before the failure.
    public var completed: Int

    public var description: String {
        "\(change.resource) (\(change.group)): \(message)"
    }
}
