import Foundation

/// A server a test starts (e.g. socat in a namespace) and kills when done, with every child it forked:
/// it runs in a process group of its own.
final class BackgroundProcess: @unchecked Sendable {
    private var pid: pid_t = 0

    init(_ arguments: [String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, environ)
        guard rc == 0 else { throw TestFailure("cannot start \(arguments): \(String(cString: strerror(rc)))") }
    }

    func stop() {
        guard pid > 0 else { return }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    deinit { stop() }
}

/// Retries a check until it passes or the deadline passes: for readiness (a server starting), never for timing.
func eventually(timeout: TimeInterval = 10, _ check: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if try check() { return true }
        usleep(100_000)
    } while Date() < deadline
    return false
}
