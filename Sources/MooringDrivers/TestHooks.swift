import Foundation

/// Fault injection for the crash-safety tests, read from the environment once. Only tests set these.
enum TestHooks {
    /// `MOORING_TEST_KILL_AFTER_TAP_IOCTL=n`: SIGKILL right after the n-th tap is created by its ioctl, before
    /// the request that marks it — the one moment a link of mooring's exists without its alias.
    static let killAfterTapIoctl: Int? = ProcessInfo.processInfo.environment["MOORING_TEST_KILL_AFTER_TAP_IOCTL"].flatMap(Int.init)

    nonisolated(unsafe) static var tapsCreated = 0

    static func tapCreated() {
        tapsCreated += 1
        if let limit = killAfterTapIoctl, tapsCreated == limit { kill(getpid(), SIGKILL) }
    }
}
