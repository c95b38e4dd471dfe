import CNetlink
import Foundation

/// Signals as a pollable descriptor (SIGTERM and SIGINT unless told otherwise), so a loop that waits in poll()
/// handles them in order, with who sent them.
public final class StopSignals: @unchecked Sendable {
    public static let stopping: [Int32] = [SIGTERM, SIGINT]
    /// `mooring run`'s: the stopping ones, and SIGHUP to read the manifests again now (`systemctl reload`).
    public static let watching: [Int32] = stopping + [SIGHUP]
    public let fd: Int32

    /// Blocks the signals for this thread and the threads it starts later; call before creating threads.
    public static func block(_ signals: [Int32] = stopping) {
        var set = signalSet(signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    public init(_ signals: [Int32] = stopping) throws {
        var set = Self.signalSet(signals)
        fd = signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw DriverError("signalfd: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// A signal that arrived, and the process that sent it.
    public struct Received: Sendable {
        public var signal: Int32
        public var sender: Int32
    }

    /// Waits up to `timeout` seconds for a signal; nil when none came.
    public func next(timeout: Double) -> Received? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(max(0, timeout * 1000))) > 0 else { return nil }
        var info = signalfd_siginfo()
        guard read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size else { return nil }
        return Received(signal: Int32(info.ssi_signo), sender: Int32(bitPattern: info.ssi_pid))
    }
}
