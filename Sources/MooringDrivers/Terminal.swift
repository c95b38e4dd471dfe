import CSystemd
import Foundation

/// Process-level output settings.
public enum Terminal {
    /// Line-buffers stdout so progress lines interleave correctly with child output and logs when piped.
    public static func lineBufferStdout() { mooring_stdout_linebuffered() }

    public static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
