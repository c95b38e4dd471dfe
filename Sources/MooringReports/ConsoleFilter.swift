/// What a guest writes to its serial console, made safe for the operator's terminal (`mooring console`).
///
/// The console is the guest's output, and the guest is the adversary: escape sequences in it could set the
/// operator's clipboard (OSC 52), retitle or clear the window, rewrite what is on screen or hide lines. So every
/// escape sequence (CSI, OSC, DCS, SOS, PM, APC and the two-byte ones) is dropped whole, as are C0 controls
/// but newline and tab, DEL, the C1 controls (U+0080-U+009F, which some terminals obey as 8-bit escapes) and
/// the bidirectional overrides that make text read differently than it is. A carriage return is kept only in
/// front of a newline. Invalid UTF-8 becomes U+FFFD. The filter keeps its state between chunks, so a sequence
/// split across two reads (`--follow`) is still dropped whole.
public struct ConsoleFilter: Sendable {
    private enum State: Sendable {
        case text
        /// After ESC.
        case escape
        /// ESC [ ... up to a final byte 0x40-0x7E.
        case controlSequence
        /// OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \).
        case string
        /// ESC inside a string: ST when `\` follows.
        case stringEscape
    }

    private var state = State.text
    /// The start of a UTF-8 sequence the last chunk ended in.
    private var pending: [UInt8] = []
    /// A carriage return, kept only if a newline follows.
    private var carriageReturn = false

    public init() {}

    /// The whole of `bytes`, filtered.
    public static func filter(_ bytes: some Sequence<UInt8>) -> String {
        var filter = ConsoleFilter()
        return filter.feed(Array(bytes)) + filter.finish()
    }

    /// The printable part of `chunk`, given what came before it.
    public mutating func feed(_ chunk: [UInt8]) -> String {
        var bytes = pending + chunk
        pending = []
        // Keep an incomplete UTF-8 sequence at the end for the next chunk.
        if let lead = bytes.indices.suffix(3).last(where: { bytes[$0] & 0xC0 != 0x80 }), bytes[lead] >= 0xC0 {
            let length = bytes[lead] >= 0xF0 ? 4 : bytes[lead] >= 0xE0 ? 3 : 2
            if bytes.count - lead < length {
                pending = Array(bytes[lead...])
                bytes.removeSubrange(lead...)
            }
        }
        var output = String.UnicodeScalarView()
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars { take(scalar, into: &output) }
        return String(output)
    }

    /// What is left at the end of the input (an incomplete character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending = [] }
        return pending.isEmpty || state != .text ? "" : "\u{FFFD}"
    }

    private mutating func take(_ scalar: Unicode.Scalar, into output: inout String.UnicodeScalarView) {
        let value = scalar.value
        switch state {
        case .escape:
            switch value {
            case 0x5B: state = .controlSequence                          // [
            case 0x5D, 0x50, 0x58, 0x5E, 0x5F: state = .string           // ] P X ^ _
            case 0x20...0x2F: break                                       // intermediates: ESC ( B and the like
            default: state = .text                                        // the final byte of a two-byte escape
            }
            return
        case .controlSequence:
            // Parameters and intermediates (0x20-0x3F) continue it; a final byte or anything unexpected ends it.
            if value == 0x1B { state = .escape } else if !(0x20...0x3F).contains(value) { state = .text }
            return
        case .string:
            if value == 0x07 || value == 0x9C { state = .text } else if value == 0x1B { state = .stringEscape }
            return
        case .stringEscape:
            state = value == 0x5C ? .text : .string
            return
        case .text:
            break
        }
        if carriageReturn {
            carriageReturn = false
            if value == 0x0A { output.append("\r") }
        }
        switch value {
        case 0x1B: state = .escape
        case 0x9B: state = .controlSequence                                 // 8-bit CSI
        case 0x90, 0x98, 0x9D, 0x9E, 0x9F: state = .string                  // 8-bit DCS, SOS, OSC, PM, APC
        case 0x0D: carriageReturn = true
        case 0x0A, 0x09: output.append(scalar)
        case 0x00...0x1F, 0x7F, 0x80...0x9F: break
        case 0x202A...0x202E, 0x2066...0x2069: break                        // bidirectional overrides and isolates
        default: output.append(scalar)
        }
    }
}
