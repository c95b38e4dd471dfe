import Synchronization
import CSystemd
import Foundation
import Logging

/// Sends log records to journald with structured fields: metadata `action` becomes `MOORING_ACTION`, etc.,
/// so `journalctl MOORING_RESOURCE=link/vm-web-1-eth0` finds every change to one object.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = ["MESSAGE=\(event.message)", "PRIORITY=\(Self.priority(event.level))", "SYSLOG_IDENTIFIER=mooring",
                      "MOORING_LOGGER=\(label)"]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            let name = key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
            fields.append("MOORING_\(String(name))=\(value)")
        }
        let buffers = fields.map { strdup($0)! }
        defer { for buffer in buffers { free(buffer) } }
        var vectors = buffers.map { iovec(iov_base: UnsafeMutableRawPointer($0), iov_len: strlen($0)) }
        _ = vectors.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}

/// Plain lines on stderr for terminals and files: `warning: message key=value`, the level coloured when asked.
public struct PlainLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let colored: Bool

    public init(level: Logger.Level, colored: Bool = false) {
        logLevel = level
        self.colored = colored
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new })
        let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Terminal.printError("\(levelText(event.level)): \(event.message)\(details.isEmpty ? "" : " " + details)")
    }

    /// Errors red, warnings yellow (SGR), as the reports colour them.
    private func levelText(_ level: Logger.Level) -> String {
        guard colored else { return "\(level)" }
        switch level {
        case .error, .critical: return "\u{1b}[31m\(level)\u{1b}[0m"
        case .warning: return "\u{1b}[33m\(level)\u{1b}[0m"
        default: return "\(level)"
        }
    }
}

public enum LoggingSetup {
    /// Whether stderr is the journal's stream: systemd's rule (systemd.exec(5), JOURNAL_STREAM) is to compare
    /// the variable's `device:inode` with stderr's, since a variable inherited by a child whose stderr was
    /// redirected (a shell in the unit, `2>file`) would otherwise send its output to the journal, unseen.
    public static func stderrIsJournal(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// swift-log allows one bootstrap per process; `restart --rolling` runs one apply per batch.
    private static let bootstrapped = Mutex(false)

    /// Journald when stderr is the journal's stream, plain lines otherwise. Only the first call in a process
    /// sets it up (swift-log traps on a second bootstrap); later ones keep it.
    public static func bootstrap(level: Logger.Level, colored: Bool = false) {
        guard bootstrapped.withLock({ done in defer { done = true }; return !done }) else { return }
        let toJournal = stderrIsJournal()
        LoggingSystem.bootstrap { label in
            toJournal ? JournalLogHandler(label: label, level: level) as any LogHandler : PlainLogHandler(level: level, colored: colored)
        }
    }
}
