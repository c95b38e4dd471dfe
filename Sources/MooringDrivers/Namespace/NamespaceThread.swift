import CNetlink
import Foundation
import Synchronization

/// A thread that lives in one network namespace. Netlink and nftables sockets belong to the namespace of
/// the thread that opens them, so every driver call for a `--netns` target runs here; the rest of the
/// process (and other tests in the same process) stays where it was.
public final class NamespaceThread: Sendable {
    public let netns: String?
    private let queue = Mutex<[@Sendable () -> Void]>([])
    private let wakeup = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)

    /// Starts the thread and enters `/run/netns/NAME` on it; nil stays in the caller's namespace.
    public init(netns: String?) throws {
        self.netns = netns
        let ready = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        let thread = Thread { [self] in
            if let netns {
                let path = "/run/netns/\(netns)"
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd < 0 {
                    failure.withLock { $0 = "cannot open \(path): \(String(cString: strerror(errno))) (create it with `ip netns add \(netns)`)" }
                } else {
                    if setns(fd, 0x4000_0000 /* CLONE_NEWNET */) != 0 {
                        failure.withLock { $0 = "cannot enter network namespace \(netns): \(String(cString: strerror(errno)))" }
                    }
                    close(fd)
                }
            }
            ready.signal()
            if failure.withLock({ $0 }) != nil { return }
            self.loop()
        }
        thread.name = "mooring-netns-\(netns ?? "host")"
        thread.stackSize = 4 << 20
        thread.start()
        ready.wait()
        if let message = failure.withLock({ $0 }) { throw DriverError(message) }
    }

    deinit { stop() }

    private func loop() {
        while true {
            wakeup.wait()
            let jobs = queue.withLock { jobs -> [@Sendable () -> Void] in
                defer { jobs.removeAll() }
                return jobs
            }
            for job in jobs { job() }
            if stopped.load(ordering: .acquiring) && queue.withLock({ $0.isEmpty }) { return }
        }
    }

    /// Runs `body` on the namespace thread and waits for its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        try start(body).wait()
    }

    /// Queues `body` on the namespace thread and returns at once; `wait()` on the result gives its outcome.
    public func start<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> Pending<T> {
        let pending = Pending<T>()
        queue.withLock { $0.append { pending.fulfil(Result { try body() }) } }
        wakeup.signal()
        return pending
    }

    public func stop() {
        if stopped.exchange(true, ordering: .acquiringAndReleasing) { return }
        wakeup.signal()
    }
}

/// A driver failure, with the message shown to the user as is.
public struct DriverError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The result of work queued on a `NamespaceThread`.
public final class Pending<T: Sendable>: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<T, Error>?>(nil)

    init() {}

    /// Runs `body` on a thread of its own, for work that only waits (a helper process) and should overlap
    /// the rest of a run.
    public static func onOwnThread(_ body: @escaping @Sendable () throws -> T) -> Pending<T> {
        let pending = Pending<T>()
        Thread { pending.fulfil(Result { try body() }) }.start()
        return pending
    }

    func fulfil(_ outcome: Result<T, Error>) {
        result.withLock { $0 = outcome }
        done.signal()
    }

    /// Blocks until the work finished.
    public func wait() throws -> T {
        settle()
        return try result.withLock { $0! }.get()
    }

    /// Blocks until the work finished, whatever its result: a caller that gives up early waits for it all the
    /// same, so the process never exits while a C library (libnftables writing its listing) is mid-call on
    /// another thread (`exit()` flushing that stream crashed about one run in 150).
    public func settle() {
        done.wait()
        done.signal()
    }
}
