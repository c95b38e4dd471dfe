/// The one JSON value type mooring reads and writes: libnftables listings and the tables mooring sends it,
/// the plan and status reports, saved plans. Built from literals (`["meta": ["key": "l4proto"]]`), written
/// canonically (keys sorted, no spaces: equal values, equal text) or pretty-printed for people.
///
/// Hand-written because JSONSerialization boxed every value of a 1000-forward listing into Foundation objects
/// and each read cast them back, which made the listing cost more than the netlink dumps of the same host.
public indirect enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    /// The number's own text: canonical output must not turn 10000 into 10000.0.
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Keys in document order; `canonicalText` sorts them, and equality ignores their order.
    case object([(key: String, value: JSONValue)])

    public init(_ number: Int) { self = .number(String(number)) }
    public init(_ number: UInt64) { self = .number(String(number)) }
    /// `.null` for nil: reports spell out every field, set or not.
    public init(_ text: String?) { self = text.map(JSONValue.string) ?? .null }
    public init(_ number: Int?) { self = number.map { JSONValue.number(String($0)) } ?? .null }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// An object's keys in document order; nil for anything else.
    public var objectKeys: [String]? { if case .object(let pairs) = self { pairs.map(\.key) } else { nil } }
    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var int: Int? { if case .number(let text) = self { Int(text) } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var array: [JSONValue]? { if case .array(let values) = self { values } else { nil } }
    public var isNull: Bool { if case .null = self { true } else { false } }

    public var description: String { canonicalText }

    public static func == (left: JSONValue, right: JSONValue) -> Bool {
        switch (left, right) {
        case let (.string(a), .string(b)): return a == b
        case let (.number(a), .number(b)): return a == b || Self.numberText(a) == Self.numberText(b)
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            // The common case, keys in the same order (both written by mooring, or both listed by libnftables).
            if zip(a, b).allSatisfy({ $0.key == $1.key }) { return zip(a, b).allSatisfy { $0.value == $1.value } }
            let sortedA = a.sorted { $0.key < $1.key }, sortedB = b.sorted { $0.key < $1.key }
            return zip(sortedA, sortedB).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Structural, consistent with `==`: object keys in any order hash alike (their pairs' hashes are combined
    /// order-free), numbers by their canonical spelling.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .string(let value): hasher.combine(0); hasher.combine(value)
        case .number(let text): hasher.combine(1); hasher.combine(Self.numberText(text))
        case .bool(let value): hasher.combine(2); hasher.combine(value)
        case .null: hasher.combine(3)
        case .array(let values):
            hasher.combine(4)
            hasher.combine(values.count)
            for value in values { value.hash(into: &hasher) }
        case .object(let pairs):
            hasher.combine(5)
            var combined = 0
            for pair in pairs {
                var pairHasher = Hasher()
                pairHasher.combine(pair.key)
                pair.value.hash(into: &pairHasher)
                combined ^= pairHasher.finalize()
            }
            hasher.combine(combined)
        }
    }

    /// Keys sorted, no whitespace: one text per value.
    public var canonicalText: String {
        var out = ""
        out.reserveCapacity(64)
        write(into: &out, indent: nil, level: 0)
        return out
    }

    /// Keys sorted, two spaces per level, for reports people read.
    public var prettyText: String {
        var out = ""
        write(into: &out, indent: "  ", level: 0)
        return out
    }

    private func write(into out: inout String, indent: String?, level: Int) {
        func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n" + String(repeating: indent, count: level)
        }
        switch self {
        case .string(let value): Self.writeString(value, into: &out)
        case .number(let text): out += Self.numberText(text)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                newline(level + 1)
                value.write(into: &out, indent: indent, level: level + 1)
            }
            if !values.isEmpty { newline(level) }
            out += "]"
        case .object(let pairs):
            out += "{"
            // Most objects mooring builds or reads have one key, or keys already in order: no sort, no copy.
            let inOrder = pairs.count < 2 || zip(pairs, pairs.dropFirst()).allSatisfy { $0.key < $1.key }
            for (index, pair) in (inOrder ? pairs : pairs.sorted(by: { $0.key < $1.key })).enumerated() {
                if index > 0 { out += "," }
                newline(level + 1)
                Self.writeString(pair.key, into: &out)
                out += indent == nil ? ":" : ": "
                pair.value.write(into: &out, indent: indent, level: level + 1)
            }
            if !pairs.isEmpty { newline(level) }
            out += "}"
        }
    }

    /// Integers as written, anything else as Swift spells the Double (how JSONSerialization read them).
    private static func numberText(_ text: String) -> String {
        Int(text) != nil ? text : Double(text).map { "\($0)" } ?? text
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; so are DEL, the C1 controls
    /// (NEL among them), U+2028, U+2029 and U+FEFF, which JSON allows raw but YAML 1.1 (cloud-init's PyYAML reads
    /// the seed's files, written in this syntax) folds or breaks lines at: a key or mount point holding one
    /// reached the guest changed. Escaped, the text is the same in JSON and in YAML.
    public static func quoted(_ string: String) -> String {
        var out = ""
        writeString(string, into: &out)
        return out
    }

    static func writeString(_ string: String, into out: inout String) {
        out += "\""
        // Interface names, addresses, keys: nothing to escape, so the text goes in as one piece.
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += string
            out += "\""
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || [0x2028, 0x2029, 0xFEFF].contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
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

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements.map { (key: $0.0, value: $0.1) }) }
}

/// Codable through the value's own text, so types holding JSON (nftables rules) keep their Codable
/// conformance for fingerprints.
extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = JSONValue.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not one JSON value: \(text.prefix(80))")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(canonicalText)
    }
}
