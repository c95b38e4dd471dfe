import Foundation

/// The node exporter's textfile collector reads `*.prom` files whole, whenever it scrapes: one is replaced by a
/// rename, never written in place, so a scrape never sees half a file.
public enum MetricsFile {
    public static func write(_ text: String, to path: String) throws {
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw DriverError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        // Readable by the exporter's user whatever the unit's UMask.
        _ = chmod(temporary, 0o644)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw DriverError("cannot replace \(path): \(reason)")
        }
    }

    /// The file's text, or "" when there is none yet.
    public static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
