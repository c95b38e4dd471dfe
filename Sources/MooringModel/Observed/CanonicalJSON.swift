import Foundation

/// One text per JSON value: keys sorted, no whitespace. nftables expressions built by mooring and the
/// ones libnftables lists back compare equal exactly when they mean the same.
///
/// Written out by hand rather than with JSONSerialization, which validated and boxed every value and was a
/// quarter of a large plan's time.
public enum CanonicalJSON {
    public static func text(_ value: Any) -> String {
        var out = ""
        out.reserveCapacity(64)
        write(value, into: &out)
        return out
    }

    private static func write(_ value: Any, into out: inout String) {
        switch value {
        case let string as String:
            writeString(string, into: &out)
        // Swift's own values, as the table builder writes them (`JSONValue` reads listings).
        case let bool as Bool:
            out += bool ? "true" : "false"
        case let number as Int:
            out += String(number)
        case let number as Double:
            out += "\(number)"
        case let array as [Any]:
            out += "["
            for (index, element) in array.enumerated() {
                if index > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        case let object as [String: Any]:
            out += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(object[key]!, into: &out)
            }
            out += "}"
        default:
            out += "null"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    public static func quoted(_ string: String) -> String {
        var out = ""
        writeString(string, into: &out)
        return out
    }

    static func writeString(_ string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    public static func parse(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
}
