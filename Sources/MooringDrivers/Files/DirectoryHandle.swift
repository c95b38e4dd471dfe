import Foundation

/// A directory root works in by descriptor, so no path a VMM or another user can change is ever followed.
///
/// Every path is opened from `/` one component at a time with `O_NOFOLLOW`: a symlink anywhere on the way is
/// an error, never a detour. Files are made as `O_CREAT|O_EXCL|O_NOFOLLOW` temporaries, given their owner and
/// mode with `fchown`/`fchmod` on that descriptor, then `renameat` into place; reads `fstat` what was opened
/// (a regular file, one link, the expected owner) before trusting a byte. This is what closes the hole where a
/// VMM swapped `cidata.img` for a symlink to `/etc/shadow` and root's `chown` by path followed it.
public final class DirectoryHandle: @unchecked Sendable {
    public let descriptor: Int32
    /// For messages only: nothing is ever opened by this path again.
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// How far the directories on the way must be trusted.
    public enum Trust: Sendable {
        /// Every directory on the way (and the last) is root's or the caller's and not writable by group or others
        /// unless sticky (as `/tmp`): nobody else can rename anything below it. Run directories and locks.
        case ownedAll
        /// Only the last directory must be root's or the caller's, and not writable by others unless sticky;
        /// the ones above it are only walked without following symlinks. A metrics directory under an
        /// exporter's own tree (`/var/lib/prometheus/...`).
        case ownedLast
    }

    /// Opens `path` (absolute); with `createMode`, missing directories are made with that mode, owned by the
    /// caller. Throws when a component is a symlink, not a directory, or not trusted as `trust` says.
    public static func open(_ path: String, trust: Trust = .ownedAll, createMode: mode_t? = nil) throws -> DirectoryHandle {
        guard path.hasPrefix("/") else { throw DriverError("\(path): not an absolute path") }
        let components = path.split(separator: "/").map(String.init)
        guard !components.contains(".."), !components.contains(".") else {
            throw DriverError("\(path): '.' and '..' are not allowed in a directory mooring writes to")
        }
        var current = DirectoryHandle(descriptor: Glibc.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), path: "/")
        guard current.descriptor >= 0 else { throw DriverError("cannot open /: \(errnoText())") }
        for (index, name) in components.enumerated() {
            let last = index == components.count - 1
            let check = trust == .ownedAll || last
            current = try current.subdirectory(name, createMode: createMode, checked: check)
        }
        if components.isEmpty { try current.checkTrusted() }
        return current
    }

    /// The directory `name` in this one, never through a symlink; made (owned by the caller, `createMode`
    /// exactly) when missing and `createMode` is given.
    public func subdirectory(_ name: String, createMode: mode_t? = nil, checked: Bool = true) throws -> DirectoryHandle {
        try Self.checkName(name)
        let full = (path == "/" ? "" : path) + "/" + name
        var fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0, errno == ENOENT, let mode = createMode {
            guard mkdirat(descriptor, name, mode) == 0 || errno == EEXIST else {
                throw DriverError("cannot create \(full): \(errnoText())")
            }
            fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                var info = stat()
                // Made by us just now (not someone racing us): give it its mode exactly, whatever the umask.
                if fstat(fd, &info) == 0, info.st_uid == geteuid() { _ = fchmod(fd, mode) }
            }
        }
        guard fd >= 0 else {
            let reason = errno == ELOOP || errno == ENOTDIR ? "it is a symlink or not a directory" : errnoText()
            throw DriverError("cannot open the directory \(full): \(reason)")
        }
        let handle = DirectoryHandle(descriptor: fd, path: full)
        if checked { try handle.checkTrusted() }
        return handle
    }

    /// Owned by root or the caller, and nobody else can rename what is in it.
    public func checkTrusted() throws {
        let info = try status()
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw DriverError("refusing \(path): it is owned by uid \(info.st_uid), not root; whoever owns it could swap what "
                              + "mooring writes there (chown root \(path), or choose a directory of root's)")
        }
        let sticky = info.st_mode & S_ISVTX != 0
        guard sticky || info.st_mode & S_IWOTH == 0 else {
            throw DriverError("refusing \(path): any user can write it (mode \(String(info.st_mode & 0o7777, radix: 8))); chmod o-w \(path)")
        }
    }

    public func status() throws -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw DriverError("cannot stat \(path): \(errnoText())") }
        return info
    }

    /// Sets this directory's mode and owner through its descriptor (the mode first: once it is another user's,
    /// changing its mode would take CAP_FOWNER, which mooring's units do not have).
    public func own(user: uid_t, group: gid_t, mode: mode_t) throws {
        guard fchmod(descriptor, mode) == 0, fchown(descriptor, user, group) == 0 else {
            throw DriverError("cannot hand \(path) to \(user):\(group): \(errnoText())")
        }
    }

    /// Replaces the file `name` with `contents` in one rename: written to a fresh temporary (`O_EXCL`, never
    /// through a symlink), given its owner and mode on its descriptor, synced, then renamed over `name`. A
    /// reader sees the old file or the new one, never half of one. Without `group` the file keeps the caller's
    /// user and group, and no chown is made (the VMM's sandbox denies the call: `~@privileged`).
    public func replaceFile(_ name: String, contents: some Collection<UInt8>, group: gid_t? = nil, mode: mode_t) throws {
        try Self.checkName(name)
        var temporary = ""
        var fd: Int32 = -1
        for attempt in 0..<100 {
            temporary = ".\(name).\(getpid()).\(attempt).tmp"
            fd = openat(descriptor, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw DriverError("cannot create a file in \(path): \(errnoText())") }
        var ok = false
        defer {
            close(fd)
            if !ok { unlinkat(descriptor, temporary, 0) }
        }
        let bytes = Array(contents)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw DriverError("cannot write \(path)/\(name): \(errnoText())") }
            written += count
        }
        guard group.map({ fchown(fd, geteuid(), $0) == 0 }) ?? true, fchmod(fd, mode) == 0 else {
            throw DriverError("cannot set the owner or mode of \(path)/\(name): \(errnoText())")
        }
        guard renameat(descriptor, temporary, descriptor, name) == 0 else {
            throw DriverError("cannot replace \(path)/\(name): \(errnoText())")
        }
        ok = true
    }

    /// Removes the entry `name` (a directory with everything in it), never following a symlink: a symlink is
    /// removed, not what it points to. Nothing there is fine.
    public func remove(_ name: String) throws {
        try Self.checkName(name)
        if unlinkat(descriptor, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR else { throw DriverError("cannot remove \(path)/\(name): \(errnoText())") }
        let child = try subdirectory(name, checked: false)
        guard let stream = fdopendir(dup(child.descriptor)) else { throw DriverError("cannot list \(child.path): \(errnoText())") }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if entryName == "." || entryName == ".." { continue }
            try child.remove(entryName)
        }
        guard unlinkat(descriptor, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw DriverError("cannot remove \(path)/\(name): \(errnoText())")
        }
    }

    /// Opens the regular file `name` for reading, never through a symlink, and never blocking on a FIFO; nil
    /// when there is none. `untrusted` (a file a VMM left in its directory): one with more than one link (a hard
    /// link to someone else's file) is refused. A VMM cannot put another file of root's there: it can neither
    /// rename out of root's directories nor, with more than one link, pass.
    public func openRegularFile(_ name: String, untrusted: Bool = false) throws -> FileHandle? {
        try Self.checkName(name)
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        if fd < 0 && errno == ENOENT { return nil }
        guard fd >= 0 else { throw DriverError("cannot open \(path)/\(name): \(errnoText())") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw DriverError("refusing \(path)/\(name): not a regular file")
        }
        if untrusted, info.st_nlink != 1 {
            throw DriverError("refusing \(path)/\(name): it has \(info.st_nlink) links, so it is not the VMM's own file")
        }
        return handle
    }

    /// Up to `limit` bytes of the regular file `name` (`openRegularFile`'s checks); nil when there is none.
    public func read(_ name: String, untrusted: Bool = false, limit: Int = 1 << 20) throws -> Data? {
        guard let handle = try openRegularFile(name, untrusted: untrusted) else { return nil }
        return try handle.read(upToCount: limit) ?? Data()
    }

    /// A name directly in this directory: no separators, not `.` or `..`.
    static func checkName(_ name: String) throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !name.contains("\0") else {
            throw DriverError("\"\(name)\" is not a file name")
        }
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
