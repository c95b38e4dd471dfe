#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Limits that keep a hostile or broken manifest directory from crashing or hanging mooring.
public struct ManifestReadLimits: Sendable {
    public var maxFileBytes = 4 << 20
    public var maxTotalBytes = 256 << 20
    public var maxFiles = 20_000
    public var maxDepth = 32
    /// Refuse directories and files that group or others can write, as sshd's StrictModes does:
    /// whoever can write the manifests controls what root does to this host.
    public var requireSafePermissions = false

    public init() {}
}

/// Finds and reads `*.yaml`/`*.yml` files under a directory, sorted by path.
///
/// Every problem (unreadable file, symlink loop, oversized file, non-UTF-8 bytes) becomes a diagnostic
/// with the file's path; nothing here throws or crashes on bad input.
public struct ManifestDirectoryReader {
    public var limits: ManifestReadLimits

    public init(limits: ManifestReadLimits = ManifestReadLimits()) {
        self.limits = limits
    }

    public func read(_ root: String) -> (files: [ManifestFile], diagnostics: [Diagnostic]) {
        var walk = Walk(limits: limits)
        walk.checkAncestors(root)
        var info = stat()
        if stat(root, &info) != 0 {
            let reason = String(cString: strerror(errno))
            return ([], [.error(at: nil, "\(root): cannot read the manifest directory: \(reason)")])
        }
        if (info.st_mode & S_IFMT) == S_IFREG {
            walk.readFile(displayPath: root, info: info)
        } else if (info.st_mode & S_IFMT) == S_IFDIR {
            walk.walkDirectory(path: root, displayPath: root, info: info, depth: 0)
        } else {
            return ([], [.error(at: nil, "\(root): not a directory or a regular file")])
        }
        walk.files.sort { $0.path < $1.path }
        return (walk.files, walk.diagnostics)
    }

    private struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private struct Walk {
        let limits: ManifestReadLimits
        var files: [ManifestFile] = []
        var diagnostics: [Diagnostic] = []
        var totalBytes = 0
        var fileCount = 0
        var ancestors: [DirectoryID: String] = [:]

        init(limits: ManifestReadLimits) { self.limits = limits }

        mutating func fail(_ path: String, _ message: String) {
            diagnostics.append(.error(at: nil, "\(path): \(message)"))
        }

        mutating func checkPermissions(_ path: String, _ info: stat) {
            guard limits.requireSafePermissions else { return }
            if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                let mode = String(info.st_mode & 0o7777, radix: 8)
                fail(path, "is writable by group or others (mode \(mode)); whoever can write manifests controls this "
                    + "host: run `chmod go-w \(path)`, or pass --allow-insecure-manifests")
            }
            if info.st_uid != 0 && info.st_uid != geteuid() {
                fail(path, "is owned by uid \(info.st_uid), not by root or the user running mooring; run "
                    + "`chown root \(path)`, or pass --allow-insecure-manifests")
            }
        }

        /// Like sshd's StrictModes: every directory above the manifests, up to `/`, along the path as given and
        /// along the path it resolves to, must be owned by root (or the user running mooring) and not writable by
        /// group or others, unless sticky (then only an entry's owner can replace it, and the entry below is
        /// checked itself). Otherwise whoever can write such a directory can swap the manifests, for example for
        /// a symlink to an empty directory, and with it decide what root does to this host.
        mutating func checkAncestors(_ root: String) {
            guard limits.requireSafePermissions else { return }
            var absolute = root
            if !root.hasPrefix("/"), let cwd = getcwd(nil, 0) {
                absolute = String(cString: cwd) + "/" + root
                free(cwd)
            }
            var paths = [absolute]
            if let resolved = realpath(absolute, nil) {
                paths.append(String(cString: resolved))
                free(resolved)
            }
            var checked: Set<String> = []
            for path in paths {
                var directory = Self.parent(path)
                while checked.insert(directory).inserted {
                    var info = stat()
                    if stat(directory, &info) == 0 {
                        if info.st_uid != 0 && info.st_uid != geteuid() {
                            fail(root, "sits in \(directory), which is owned by uid \(info.st_uid): its owner can replace the "
                                + "manifests; move them under directories only root controls, or pass --allow-insecure-manifests")
                        } else if info.st_mode & (S_IWGRP | S_IWOTH) != 0 && info.st_mode & S_ISVTX == 0 {
                            let mode = String(info.st_mode & 0o7777, radix: 8)
                            fail(root, "sits in \(directory), which group or others can write (mode \(mode)): they can replace "
                                + "the manifests; run `chmod go-w \(directory)`, or pass --allow-insecure-manifests")
                        }
                    }
                    if directory == "/" { break }
                    directory = Self.parent(directory)
                }
            }
        }

        /// The lexical parent of an absolute path (`/a/b/` -> `/a`, `/a` -> `/`).
        static func parent(_ path: String) -> String {
            var trimmed = Substring(path)
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            guard let slash = trimmed.lastIndex(of: "/") else { return "/" }
            return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        }

        mutating func walkDirectory(path: String, displayPath: String, info: stat, depth: Int) {
            let id = DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if let earlier = ancestors[id] {
                fail(displayPath, "symlink loop: this directory is \(earlier) again; remove the link")
                return
            }
            if depth > limits.maxDepth {
                fail(displayPath, "directories nest deeper than \(limits.maxDepth) levels")
                return
            }
            checkPermissions(displayPath, info)
            guard let dir = opendir(path) else {
                fail(displayPath, "cannot read directory: \(String(cString: strerror(errno)))")
                return
            }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                // Dot entries: `.`/`..`, and hidden ones such as `.git` that are never manifests.
                if name.hasPrefix(".") { continue }
                names.append(name)
            }
            closedir(dir)
            names.sort()
            ancestors[id] = displayPath
            defer { ancestors[id] = nil }
            for name in names {
                let childPath = path + "/" + name
                let childDisplay = displayPath.hasSuffix("/") ? displayPath + name : displayPath + "/" + name
                var childInfo = stat()
                if stat(childPath, &childInfo) != 0 {
                    let code = errno
                    if code == ELOOP {
                        fail(childDisplay, "symlink loop (too many levels of symbolic links); remove the link")
                    } else if code == ENOENT {
                        fail(childDisplay, "dangling symlink; remove it or point it at a manifest")
                    } else {
                        fail(childDisplay, "cannot read: \(String(cString: strerror(code)))")
                    }
                    continue
                }
                switch childInfo.st_mode & S_IFMT {
                case S_IFDIR:
                    walkDirectory(path: childPath, displayPath: childDisplay, info: childInfo, depth: depth + 1)
                case S_IFREG where name.hasSuffix(".yaml") || name.hasSuffix(".yml"):
                    readFile(displayPath: childDisplay, info: childInfo, openPath: childPath)
                case _ where name.hasSuffix(".yaml") || name.hasSuffix(".yml"):
                    // A FIFO or device named like a manifest would block or never end: refuse it.
                    fail(childDisplay, "is not a regular file; remove it or replace it with a manifest file")
                default:
                    continue
                }
            }
        }

        mutating func readFile(displayPath: String, info: stat, openPath: String? = nil) {
            fileCount += 1
            if fileCount > limits.maxFiles {
                if fileCount == limits.maxFiles + 1 { fail(displayPath, "more than \(limits.maxFiles) manifest files") }
                return
            }
            let size = Int(info.st_size)
            if size > limits.maxFileBytes {
                fail(displayPath, "is \(size) bytes; a manifest file may be at most \(limits.maxFileBytes) bytes "
                    + "(split it into several files)")
                return
            }
            totalBytes += size
            if totalBytes > limits.maxTotalBytes {
                fail(displayPath, "manifests add up to more than \(limits.maxTotalBytes) bytes")
                return
            }
            let fd = open(openPath ?? displayPath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
            guard fd >= 0 else {
                fail(displayPath, "cannot open: \(String(cString: strerror(errno)))")
                return
            }
            defer { close(fd) }
            // What was opened is what counts: a file swapped between the directory walk and open() is judged by
            // its descriptor (kind, owner, mode), not by the name's earlier stat.
            var opened = stat()
            guard fstat(fd, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG else {
                fail(displayPath, "is not a regular file; remove it or replace it with a manifest file")
                return
            }
            checkPermissions(displayPath, opened)
            // Read at most one byte past the limit, so a file that grows while we read is still bounded.
            var bytes = [UInt8](repeating: 0, count: min(size, limits.maxFileBytes) + 1)
            var filled = 0
            while filled < bytes.count {
                let got = bytes.withUnsafeMutableBytes { raw in
                    Glibc.read(fd, raw.baseAddress! + filled, raw.count - filled)
                }
                if got < 0 {
                    if errno == EINTR { continue }
                    fail(displayPath, "cannot read: \(String(cString: strerror(errno)))")
                    return
                }
                if got == 0 { break }
                filled += got
            }
            if filled > limits.maxFileBytes {
                fail(displayPath, "is larger than \(limits.maxFileBytes) bytes")
                return
            }
            bytes.removeSubrange(filled...)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                let (line, column) = Self.firstInvalidUTF8(bytes)
                diagnostics.append(.error(at: SourceLocation(file: displayPath, line: line, column: column),
                                          "file is not valid UTF-8; save it as UTF-8"))
                return
            }
            files.append(ManifestFile(path: displayPath, text: text))
        }

        static func firstInvalidUTF8(_ bytes: [UInt8]) -> (line: Int, column: Int) {
            var line = 1, column = 1, index = 0
            while index < bytes.count {
                let byte = bytes[index]
                let length: Int
                switch byte {
                case 0x00...0x7f: length = 1
                case 0xc2...0xdf: length = 2
                case 0xe0...0xef: length = 3
                case 0xf0...0xf4: length = 4
                default: return (line, column)
                }
                if index + length > bytes.count { return (line, column) }
                if length > 1, String(validating: bytes[index..<index + length], as: UTF8.self) == nil {
                    return (line, column)
                }
                if byte == 0x0a { line += 1; column = 1 } else { column += 1 }
                index += length
            }
            return (line, column)
        }
    }
}
