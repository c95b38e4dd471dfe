import CSystemd
import Foundation

/// Process-level output settings.
public enum Terminal {
    /// Line-buffers stdout so progress lines interleave correctly with child output and logs when piped.
    public static func lineBufferStdout() { mooring_stdout_linebuffered() }

    /// Standard error is a terminal: helper programs may draw their progress there (skopeo's pulls).
    public static var isInteractive: Bool { isatty(2) == 1 }

    public static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
