import Foundation

/// Runs a helper program (git) and captures its output. posix_spawn, no shell.
enum Subprocess {
    static func run(_ arguments: [String]) -> (status: Int32, output: String)? {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        close(pipe[1])
        guard rc == 0 else { close(pipe[0]); return nil }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = read(pipe[0], &buffer, buffer.count)
            if got > 0 { data += buffer[0..<got] } else if got < 0 && errno == EINTR { continue } else { break }
        }
        close(pipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitCode, String(decoding: data, as: UTF8.self))
    }
}

/// The git commit of a manifest directory, for reports: GitOps hosts say which commit they applied.
public struct GitInfo: Sendable, Equatable {
    public var commit: String
    public var dirty: Bool

    /// Nil when `directory` is not inside a git work tree (or git is not installed).
    public static func of(_ directory: String) -> GitInfo? {
        guard mayBeInWorkTree(directory) else { return nil }
        let base = ["git", "-c", "safe.directory=*", "-C", directory]
        guard let head = Subprocess.run(base + ["rev-parse", "--verify", "HEAD"]), head.status == 0 else { return nil }
        let status = Subprocess.run(base + ["status", "--porcelain", "--untracked-files=normal"])
        return GitInfo(commit: head.output.trimmingCharacters(in: .whitespacesAndNewlines),
                       dirty: !(status?.output.isEmpty ?? true))
    }
}

extension GitInfo {
    /// Spawning git costs milliseconds on every drift check; a directory with no `.git` in it or above it
    /// (and no GIT_DIR telling git otherwise) is not in a work tree, which a few stat calls show.
    static func mayBeInWorkTree(_ directory: String) -> Bool {
        if ProcessInfo.processInfo.environment["GIT_DIR"] != nil { return true }
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            if access(url.appendingPathComponent(".git").path, F_OK) == 0 { return true }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return false }
            url = parent
        }
    }
}
