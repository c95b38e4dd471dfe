import ArgumentParser
import Foundation

/// Reads a file that steers what root does (a saved plan): only if the open descriptor is a regular file owned
/// by root (or the user running mooring) that group and others cannot write. Checked with fstat on what was
/// opened, so a file swapped after a check is judged by what is read.
enum TrustedFile {
    static func read(_ path: String, what: String, limit: Int = 64 << 20) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { throw ValidationError("cannot read the \(what) \(path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ValidationError("the \(what) \(path) is not a regular file")
        }
        if info.st_uid != 0 && info.st_uid != geteuid() {
            throw ValidationError("refusing the \(what) \(path): it is owned by uid \(info.st_uid), not by root; "
                                  + "whoever owns it could change what apply does (`chown root \(path)`)")
        }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw ValidationError("refusing the \(what) \(path): group or others can write it (mode "
                                  + "\(String(info.st_mode & 0o7777, radix: 8))); run `chmod go-w \(path)`")
        }
        guard Int(info.st_size) <= limit, let data = try handle.read(upToCount: limit + 1), data.count <= limit else {
            throw ValidationError("the \(what) \(path) is larger than \(limit) bytes")
        }
        return data
    }
}
