/// How text for people is marked: ANSI SGR colours, or nothing. The one place escape codes are written.
///
/// Hand-written rather than Rainbow (in the package mirror), because mooring's renderers are pure values that
/// are handed their style: Rainbow switches colour on and off in global mutable state and decides by whether
/// *stdout* is a terminal, while mooring writes diagnostics to stderr and plans to stdout, each styled for its
/// own stream (`--color`, NO_COLOR; see `TextStyle.choose`). What it needs is five codes.
public struct TextStyle: Sendable, Equatable {
    public var colored: Bool

    public init(colored: Bool) { self.colored = colored }

    public static let plain = TextStyle(colored: false)

    /// `--color`: `auto` colours a terminal only (and never with NO_COLOR set, https://no-color.org);
    /// `always` and `never` are what they say, whatever the environment.
    public enum Choice: String, CaseIterable, Sendable {
        case auto, always, never
    }

    /// The style for one output stream.
    /// - Parameters:
    ///   - isTerminal: whether that stream is a terminal.
    ///   - environment: NO_COLOR (set and not empty: no colour) and TERM (`dumb`: no colour).
    public static func choose(_ choice: Choice, isTerminal: Bool, environment: [String: String]) -> TextStyle {
        switch choice {
        case .always: return TextStyle(colored: true)
        case .never: return .plain
        case .auto:
            let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
            return TextStyle(colored: isTerminal && !noColor && environment["TERM"] != "dumb")
        }
    }

    private func sgr(_ code: String, _ text: String) -> String { colored ? "\u{1b}[\(code)m\(text)\u{1b}[0m" : text }

    public func bold(_ text: String) -> String { sgr("1", text) }
    public func dim(_ text: String) -> String { sgr("2", text) }
    public func green(_ text: String) -> String { sgr("32", text) }
    public func yellow(_ text: String) -> String { sgr("33", text) }
    public func red(_ text: String) -> String { sgr("31", text) }
    public func magenta(_ text: String) -> String { sgr("35", text) }
    public func cyan(_ text: String) -> String { sgr("36", text) }
    public func error(_ text: String) -> String { sgr("1;31", text) }
    public func warning(_ text: String) -> String { sgr("1;33", text) }
}
