import CSystemd
import Foundation

/// Why a unit did not start or stay up, in systemd's own words: the service's `Result`, how its main process
/// ended (`code=exited, status=225/NETWORK`, as `systemctl status` prints it), and the manager's journal lines
/// for the unit. Read right after the failure, before the unit is restarted or collected.
struct UnitDiagnosis: Sendable, CustomStringConvertible {
    var result: String?
    var state: String?
    var mainCode: Int32?
    var mainStatus: Int32?
    var restarts: UInt32?
    var journal: [String]
    /// Why no journal lines could be shown, when there are none.
    var journalNote: String?

    var description: String {
        var parts: [String] = []
        if let state { parts.append("unit \(state)") }
        if let result { parts.append("Result=\(result)") }
        if let ended = Self.mainProcessText(code: mainCode, status: mainStatus) { parts.append("main process \(ended)") }
        if let restarts, restarts > 0 { parts.append("\(restarts) restart(s)") }
        var text = parts.isEmpty ? "systemd has no record of the unit (it was collected)" : parts.joined(separator: ", ")
        if !journal.isEmpty {
            text += "\nthe unit's journal (systemd's lines, and the VMM's own where its output goes there):\n" + journal.map { "  " + $0 }.joined(separator: "\n")
        } else if let journalNote {
            text += " (\(journalNote))"
        }
        return text
    }

    /// systemd's wording: "exited, code=exited, status=203/EXEC" or "killed, code=killed, status=9/KILL".
    static func mainProcessText(code: Int32?, status: Int32?) -> String? {
        guard let code, code != 0, let status else { return nil }
        switch code {
        case 1:  // CLD_EXITED
            let name = exitStatusNames[status].map { "/\($0)" } ?? ""
            return "exited, code=exited, status=\(status)\(name)"
        case 2, 3:  // CLD_KILLED, CLD_DUMPED
            let signal = signalNames[status].map { "/\($0)" } ?? ""
            return "\(code == 2 ? "killed" : "dumped core"), code=\(code == 2 ? "killed" : "dumped"), status=\(status)\(signal)"
        default:
            return "ended, code=\(code), status=\(status)"
        }
    }

    /// systemd's exit codes for a service that failed before or while executing its command (exit-status.h),
    /// and the LSB ones; the names are those `systemctl status` shows.
    static let exitStatusNames: [Int32: String] = [
        1: "FAILURE", 2: "INVALIDARGUMENT", 3: "NOTIMPLEMENTED", 4: "NOPERMISSION", 5: "NOTINSTALLED",
        6: "NOTCONFIGURED", 7: "NOTRUNNING",
        200: "CHDIR", 201: "NICE", 202: "FDS", 203: "EXEC", 204: "MEMORY", 205: "LIMITS", 206: "OOM_ADJUST",
        207: "SIGNAL_MASK", 208: "STDIN", 209: "STDOUT", 210: "CHROOT", 211: "IOPRIO", 212: "TIMERSLACK",
        213: "SECUREBITS", 214: "SETSCHEDULER", 215: "CPUAFFINITY", 216: "GROUP", 217: "USER", 218: "CAPABILITIES",
        219: "CGROUP", 220: "SETSID", 221: "CONFIRM", 222: "STDERR", 224: "PAM", 225: "NETWORK", 226: "NAMESPACE",
        227: "NO_NEW_PRIVILEGES", 228: "SECCOMP", 229: "SELINUX_CONTEXT", 230: "PERSONALITY", 231: "APPARMOR_PROFILE",
        232: "ADDRESS_FAMILIES", 233: "RUNTIME_DIRECTORY", 235: "CHOWN", 236: "SMACK_PROCESS_LABEL", 237: "KEYRING",
        238: "STATE_DIRECTORY", 239: "CACHE_DIRECTORY", 240: "LOGS_DIRECTORY", 241: "CONFIGURATION_DIRECTORY",
        242: "NUMA_POLICY", 243: "CREDENTIALS", 245: "BPF",
    ]

    static let signalNames: [Int32: String] = [
        1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 6: "ABRT", 7: "BUS", 8: "FPE", 9: "KILL", 11: "SEGV", 13: "PIPE",
        14: "ALRM", 15: "TERM", 31: "SYS",
    ]
}

/// The journal lines of one unit since a point in time: the unit's own output and the manager's messages about
/// it (`UNIT=`/`USER_UNIT=`), as `journalctl -u` shows them. Read through sd-journal, no journalctl process.
enum UnitJournal {
    static func lines(unit: String, userManager: Bool, since: Date, limit: Int = 10) -> (lines: [String], note: String?) {
        var journal: OpaquePointer?
        guard sd_journal_open(&journal, Int32(SD_JOURNAL_LOCAL_ONLY)) >= 0, let journal else {
            return ([], "the journal cannot be opened here")
        }
        defer { sd_journal_close(journal) }
        let fields = userManager ? ["_SYSTEMD_USER_UNIT", "USER_UNIT"] : ["_SYSTEMD_UNIT", "UNIT"]
        for (index, field) in fields.enumerated() {
            if index > 0 { sd_journal_add_disjunction(journal) }
            let match = "\(field)=\(unit)"
            _ = match.withCString { sd_journal_add_match(journal, $0, 0) }
        }
        _ = sd_journal_seek_realtime_usec(journal, UInt64(max(0, since.timeIntervalSince1970 - 1) * 1_000_000))
        var lines: [String] = []
        while sd_journal_next(journal) > 0 {
            var data: UnsafeRawPointer?
            var length = 0
            guard sd_journal_get_data(journal, "MESSAGE", &data, &length) >= 0, let data else { continue }
            let field = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            lines.append(String(field.dropFirst("MESSAGE=".count)))
            if lines.count > limit { lines.removeFirst() }
        }
        if lines.isEmpty {
            let running = FileManager.default.fileExists(atPath: "/run/systemd/journal/socket")
            return ([], running ? "the journal has no lines for it" : "no journald runs here, so the manager's own log lines cannot be read")
        }
        return (lines, nil)
    }
}
