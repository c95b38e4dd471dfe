import Foundation

/// inotify on a manifest directory tree: files written, moved in or out (a `git pull` renames), deleted,
/// directories created. The loop polls `fd` and calls `drain()`.
///
/// It also knows which manifests are being written right now (modified, not yet closed): the loop reads
/// the manifests only when none is, and the tree has been quiet for a while (`WatchLoop.Settings.settle`).
final class ManifestWatcher {
    let fd: Int32
    private let root: String
    private var watched: [Int32: String] = [:]
    /// Manifests modified and not closed since: a writer is in the middle of them.
    private(set) var beingWritten: Set<String> = []
    /// When the last manifest event arrived.
    private(set) var lastEvent: Date?

    static let mask = UInt32(IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB
        | IN_DELETE_SELF | IN_MOVE_SELF)

    init(directory: String) throws {
        root = directory
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw LockError(message: "inotify: \(String(cString: strerror(errno)))") }
        addTree(directory)
    }

    deinit { close(fd) }

    private func addTree(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) != S_IFDIR {
            // A single manifest file: watch it (and rewatch after a rename replaces it).
            let descriptor = inotify_add_watch(fd, path, Self.mask)
            if descriptor >= 0 { watched[descriptor] = path }
            return
        }
        let descriptor = inotify_add_watch(fd, path, Self.mask)
        if descriptor >= 0 { watched[descriptor] = path }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where !entry.hasPrefix(".") {
            let child = path + "/" + entry
            var childInfo = stat()
            if stat(child, &childInfo) == 0 && (childInfo.st_mode & S_IFMT) == S_IFDIR && watched.count < 10_000 {
                addTree(child)
            }
        }
    }

    /// Reads all queued events; true when any was about a manifest or a directory.
    func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var relevant = false
        var rescan = false
        while true {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            var offset = 0
            while offset + 16 <= got {
                let descriptor = buffer.withUnsafeBytes { $0.load(fromByteOffset: offset, as: Int32.self) }
                let mask = buffer.withUnsafeBytes { $0.load(fromByteOffset: offset + 4, as: UInt32.self) }
                let length = Int(buffer.withUnsafeBytes { $0.load(fromByteOffset: offset + 12, as: UInt32.self) })
                let name = String(decoding: buffer[(offset + 16)..<min(got, offset + 16 + length)].prefix { $0 != 0 }, as: UTF8.self)
                if mask & UInt32(IN_ISDIR) != 0 || mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                    rescan = true
                    relevant = true
                } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.isEmpty {
                    relevant = true
                    let path = (watched[descriptor] ?? "?") + "/" + name
                    if mask & UInt32(IN_MODIFY) != 0 { beingWritten.insert(path) }
                    // Closed, or gone: no writer is in the middle of it any more.
                    if mask & UInt32(IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM) != 0 { beingWritten.remove(path) }
                }
                offset += 16 + length
            }
        }
        if rescan { addTree(root) }
        if relevant { lastEvent = Date() }
        return relevant
    }
}
