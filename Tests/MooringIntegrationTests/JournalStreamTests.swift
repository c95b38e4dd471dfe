import Foundation
import MooringDrivers
import Testing

/// systemd's rule for JOURNAL_STREAM: the journal is where stderr goes only when stderr *is* that stream
/// (same device and inode); a child that inherited the variable but writes elsewhere must not log to the journal.
@Suite struct JournalStreamTests {
    @Test func onlyAStderrThatIsTheStreamCounts() {
        var status = stat()
        #expect(fstat(STDERR_FILENO, &status) == 0)
        #expect(LoggingSetup.stderrIsJournal(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]))
        #expect(!LoggingSetup.stderrIsJournal(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]), "inherited, stderr redirected")
        #expect(!LoggingSetup.stderrIsJournal(["JOURNAL_STREAM": "garbage"]))
        #expect(!LoggingSetup.stderrIsJournal([:]))
    }
}
