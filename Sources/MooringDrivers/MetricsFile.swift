import Foundation

/// The node exporter's textfile collector reads `*.prom` files whole, whenever it scrapes: one is replaced by a
/// rename, never written in place, so a scrape never sees half a file.
///
/// Written by descriptor (`DirectoryHandle`): the directory must be root's (its group may be an exporter's, and
/// may write it) and not writable by others unless sticky; the file is a fresh `O_EXCL` temporary made
/// world-readable with `fchmod` before its `renameat`. So a user who owns or races in the directory cannot make
/// root chmod, chown or write anything else (a racing user turned a root 0600 file 0644 when this went by path).
public enum MetricsFile {
    public static func write(_ text: String, to path: String) throws {
        let (directory, name) = try split(path)
        let handle: DirectoryHandle
        do {
            handle = try DirectoryHandle.open(directory, trust: .ownedLast)
        } catch let error as DriverError {
            throw DriverError("cannot write the metrics file \(path): \(error.message); the exporter only needs to read it: "
                              + "install -d -o root -g EXPORTER_GROUP -m 0755 DIR, and point --metrics-file and the collector there")
        }
        // Readable by the exporter's user whatever the unit's UMask.
        try handle.replaceFile(name, contents: Array(text.utf8), mode: 0o644)
    }

    /// The file's text, or "" when there is none yet (or it is not a regular file of root's directory).
    public static func read(_ path: String) -> String {
        guard let (directory, name) = try? split(path), let handle = try? DirectoryHandle.open(directory, trust: .ownedLast),
              let data = try? handle.read(name, limit: 1 << 20) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func split(_ path: String) throws -> (String, String) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let name = (absolute as NSString).lastPathComponent
        let directory = (absolute as NSString).deletingLastPathComponent
        guard !name.isEmpty, name != "/" else { throw DriverError("\(path) names no file") }
        return (directory, name)
    }
}
