import Foundation

/// `MOORING_TIMINGS=1` prints how long each phase took (load, observe, plan, execute, verify) on stderr,
/// for profiling large hosts (docs/performance.md).
enum PhaseTimer {
    static let enabled = ProcessInfo.processInfo.environment["MOORING_TIMINGS"] == "1"

    static func measure<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
            FileHandle.standardError.write(Data(String(format: "timing: %-8@ %8.1f ms\n", phase, milliseconds).utf8))
        }
        return try body()
    }
}
