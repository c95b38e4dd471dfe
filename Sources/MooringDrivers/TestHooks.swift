import Foundation

/// Fault injection for the crash-safety tests, read from the environment once. Compiled into debug (test)
/// builds only (MOORING_TEST_HOOKS, Package.swift): a release binary has no such variables.
enum TestHooks {
    #if MOORING_TEST_HOOKS
    /// `MOORING_TEST_KILL_AFTER_TAP_IOCTL=n`: SIGKILL right after the n-th tap is created by its ioctl, before
    /// the request that marks it — the one moment a link of mooring's exists without its alias.
    static let killAfterTapIoctl: Int? = ProcessInfo.processInfo.environment["MOORING_TEST_KILL_AFTER_TAP_IOCTL"].flatMap(Int.init)
    #else
    static let killAfterTapIoctl: Int? = nil
    #endif

    nonisolated(unsafe) static var tapsCreated = 0

    static func tapCreated() {
        tapsCreated += 1
        if let limit = killAfterTapIoctl, tapsCreated == limit { kill(getpid(), SIGKILL) }
    }
}
