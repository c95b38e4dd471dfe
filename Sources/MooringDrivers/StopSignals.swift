import CNetlink
import Foundation

/// SIGTERM and SIGINT as a pollable descriptor, so a loop that waits in poll() stops cleanly.
public final class StopSignals: @unchecked Sendable {
    public let fd: Int32

    /// Blocks the signals for this thread and the threads it starts later; call before creating threads.
    public static func block() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }

    public init() throws {
        var set = Self.signalSet()
        fd = signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw DriverError("signalfd: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }
}
