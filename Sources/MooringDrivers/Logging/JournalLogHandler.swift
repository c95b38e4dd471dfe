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

/// Plain lines on stderr for terminals and files: `warning: message key=value`.
public struct PlainLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(level: Logger.Level) { logLevel = level }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new })
        let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Terminal.printError("\(event.level): \(event.message)\(details.isEmpty ? "" : " " + details)")
    }
}

public enum LoggingSetup {
    /// Journald when stdout or stderr is the journal (systemd sets JOURNAL_STREAM), plain lines otherwise.
    public static func bootstrap(level: Logger.Level) {
        let toJournal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        LoggingSystem.bootstrap { label in
            toJournal ? JournalLogHandler(label: label, level: level) as any LogHandler : PlainLogHandler(level: level)
        }
    }
}
