import Foundation

/// A server a test starts (e.g. socat in a namespace) and kills when done, with every child it forked:
/// it runs in a process group of its own.
final class BackgroundProcess: @unchecked Sendable {
    private var pid: pid_t = 0

    init(_ arguments: [String], output: String? = nil, environment: [String: String] = [:]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for fd: Int32 in [1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        let settings = environment.map { "\($0.key)=\($0.value)" }
        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env"] + settings + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, environ)
        guard rc == 0 else { throw TestFailure("cannot start \(arguments): \(String(cString: strerror(rc)))") }
    }

    var processID: pid_t { pid }

    /// Sends `signal` to the process alone and waits for it; returns its exit status (128+n if killed by n).
    func terminate(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 10) -> Int32 {
        guard pid > 0 else { return -1 }
        kill(pid, signal)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(-pid, SIGKILL); waitpid(pid, &status, 0); break }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        pid = 0
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Waits for the process to exit by itself; returns its exit status.
    func wait() -> Int32 {
        guard pid > 0 else { return -1 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
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
