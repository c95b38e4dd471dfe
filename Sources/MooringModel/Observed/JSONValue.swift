/// A parsed JSON document for reading libnftables listings. Hand-written because JSONSerialization boxed
/// every value of a 1000-forward listing into Foundation objects and each read cast them back, which made
/// the listing cost more than the netlink dumps of the same host.
public indirect enum JSONValue: Sendable {
    case string(String)
    /// The number's own text: canonical output must not turn 10000 into 10000.0.
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Keys in document order; `canonicalText` sorts them.
    case object([(key: String, value: JSONValue)])

    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// An object's keys in document order; nil for anything else.
    public var objectKeys: [String]? { if case .object(let pairs) = self { pairs.map(\.key) } else { nil } }
    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var int: Int? { if case .number(let text) = self { Int(text) } else { nil } }
    public var array: [JSONValue]? { if case .array(let values) = self { values } else { nil } }

    /// The same text `CanonicalJSON.text` writes for the equivalent Foundation value: keys sorted, no spaces.
    public var canonicalText: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .string(let value): CanonicalJSON.writeString(value, into: &out)
        case .number(let text):
            // JSONSerialization read integers as Int and everything else as Double; keep that spelling.
            if Int(text) != nil { out += text } else { out += Double(text).map { "\($0)" } ?? text }
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, pair) in pairs.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out += "," }
                CanonicalJSON.writeString(pair.key, into: &out)
                out += ":"
                pair.value.write(into: &out)
            }
            out += "}"
        }
    }

    /// Nil when `text` is not one complete JSON value.
    public static func parse(_ text: String) -> JSONValue? {
        var text = text
        return text.withUTF8 { bytes in
            var parser = JSONByteParser(bytes: bytes)
            guard let value = parser.value(depth: 0) else { return nil }
            parser.skipSpace()
            return parser.position == bytes.count ? value : nil
        }
    }
}

private struct JSONByteParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Listings nest a few levels; the bound only keeps hostile input from exhausting the stack.
    static let maximumDepth = 512

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[position]) { position += 1 }
    }

    mutating func value(depth: Int) -> JSONValue? {
        guard depth < Self.maximumDepth else { return nil }
        skipSpace()
        guard position < bytes.count else { return nil }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            position += 1
            var pairs: [(key: String, value: JSONValue)] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(pairs) }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard consume(UInt8(ascii: ":")), let value = value(depth: depth + 1) else { return nil }
                pairs.append((key, value))
                skipSpace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}")) ? .object(pairs) : nil
            }
        case UInt8(ascii: "["):
            position += 1
            var values: [JSONValue] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(values) }
            while true {
                guard let value = value(depth: depth + 1) else { return nil }
                values.append(value)
                skipSpace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]")) ? .array(values) : nil
            }
        case UInt8(ascii: "\""):
            return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        default:
            let start = position
            while position < bytes.count, Self.isNumberByte(bytes[position]) { position += 1 }
            guard position > start else { return nil }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        }
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for index in 0..<count where bytes[position + index] != word.utf8Start[index] { return false }
        position += count
        return true
    }

    private mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = position
        // The common case, no escapes: one decode of the byte range.
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\") {
            position += 1
        }
        guard position < bytes.count else { return nil }
        var result = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return result }
            if byte != UInt8(ascii: "\\") {
                let runStart = position - 1
                while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\") {
                    position += 1
                }
                result += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<position]), as: UTF8.self)
                continue
            }
            guard position < bytes.count else { return nil }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): result += "\""
            case UInt8(ascii: "\\"): result += "\\"
            case UInt8(ascii: "/"): result += "/"
            case UInt8(ascii: "b"): result += "\u{8}"
            case UInt8(ascii: "f"): result += "\u{c}"
            case UInt8(ascii: "n"): result += "\n"
            case UInt8(ascii: "r"): result += "\r"
            case UInt8(ascii: "t"): result += "\t"
            case UInt8(ascii: "u"):
                guard var code = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(code), consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")),
                   let low = hex4(), (0xDC00..<0xE000).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                result.unicodeScalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: return nil
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[position])).hexDigitValue else { return nil }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }
}
