/// Reads one YAML document's nodes strictly, remembering where each value was written and
/// collecting every problem instead of stopping at the first.
///
/// Scalars are read from their source text rather than resolved tags: YAML 1.1 resolution turns
/// `8000:8010` into a base-60 integer and `no` into a boolean, which would make manifests mean
/// something other than what they say.
final class DocumentReader {
    let file: String
    /// The manifest being read, e.g. `MicroVM "web-1"`; set once kind and name are known.
    var subject: String?
    private(set) var diagnostics: [Diagnostic] = []
    /// Bounds the work done on one document, whatever anchors and aliases expand to.
    private var nodeBudget: Int
    private(set) var budgetExhausted = false
    private let documentLocation: SourceLocation
    /// Lines before the text the parser saw (a chunk of a larger file).
    private let lineOffset: Int

    static let maxDiagnosticsPerDocument = 100

    init(file: String, documentLocation: SourceLocation, lineOffset: Int = 0, nodeBudget: Int = 100_000) {
        self.lineOffset = lineOffset
        self.file = file
        self.documentLocation = documentLocation
        self.nodeBudget = nodeBudget
    }

    func location(of node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return documentLocation }
        return SourceLocation(file: file, line: mark.line + lineOffset, column: mark.column)
    }

    func error(_ node: Node?, _ path: String, _ message: String) {
        report(.error(at: location(of: node), subject: subject, path: path, message))
    }

    func error(at location: SourceLocation, _ path: String, _ message: String) {
        report(.error(at: location, subject: subject, path: path, message))
    }

    func warning(_ node: Node?, _ path: String, _ message: String) {
        report(.warning(at: location(of: node), subject: subject, path: path, message))
    }

    func warning(at location: SourceLocation, _ path: String, _ message: String) {
        report(.warning(at: location, subject: subject, path: path, message))
    }

    private func report(_ diagnostic: Diagnostic) {
        if diagnostics.count == Self.maxDiagnosticsPerDocument {
            diagnostics.append(.error(at: diagnostic.location, subject: subject,
                                      "too many errors in this document; fix the ones above first"))
        }
        if diagnostics.count < Self.maxDiagnosticsPerDocument { diagnostics.append(diagnostic) }
    }

    /// Takes back a finding already made and returns whether there was one: a missing required field that turns
    /// out to be a misspelt one is one mistake, reported once (MappingReader.finish).
    func withdraw(_ matches: (Diagnostic) -> Bool) -> Bool {
        guard let index = diagnostics.firstIndex(where: matches) else { return false }
        diagnostics.remove(at: index)
        return true
    }

    /// Charges one node against the budget; false once the document is too big to read.
    func visit(_ node: Node) -> Bool {
        if budgetExhausted { return false }
        nodeBudget -= 1
        if nodeBudget < 0 {
            budgetExhausted = true
            error(node, "", "document expands to too many YAML nodes (anchors and aliases included); "
                + "split it into smaller documents")
            return false
        }
        return true
    }

    // MARK: Scalars

    /// The source text of a scalar, or nil for YAML null (`~`, `null`, nothing) when unquoted.
    static func scalarText(_ node: Node) -> (text: String, quoted: Bool)? {
        guard case let .scalar(scalar) = node else { return nil }
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            || scalar.style == .literal || scalar.style == .folded
        if !quoted && ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return nil }
        return (scalar.string, quoted)
    }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return scalarText(node) == nil }
        return false
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar:
            guard let (text, quoted) = scalarText(node) else { return "null" }
            return quoted ? "the string \"\(text.escapedForMessage)\"" : "\"\(text.escapedForMessage)\""
        }
    }

    func string(_ node: Node, _ path: String) -> Located<String>? {
        guard visit(node) else { return nil }
        guard case .scalar = node, let (text, _) = Self.scalarText(node) else {
            error(node, path, "want a string, found \(Self.describe(node))")
            return nil
        }
        return Located(text, at: location(of: node), path: path)
    }

    func int(_ node: Node, _ path: String, range: ClosedRange<Int>, unit: String = "") -> Located<Int>? {
        guard visit(node) else { return nil }
        guard case .scalar = node, let (text, quoted) = Self.scalarText(node), !quoted else {
            error(node, path, "want an integer (\(range.lowerBound)-\(range.upperBound)\(unit)), found \(Self.describe(node))")
            return nil
        }
        let digits = text.hasPrefix("+") ? String(text.dropFirst()) : text
        let body = digits.hasPrefix("-") ? digits.dropFirst() : Substring(digits)
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            error(node, path, "want an integer (\(range.lowerBound)-\(range.upperBound)\(unit)), found \(Self.describe(node))")
            return nil
        }
        guard let value = Int(digits), range.contains(value) else {
            error(node, path, "\(text.escapedForMessage) is out of range (want \(range.lowerBound)-\(range.upperBound)\(unit))")
            return nil
        }
        return Located(value, at: location(of: node), path: path)
    }

    func bool(_ node: Node, _ path: String) -> Located<Bool>? {
        guard visit(node) else { return nil }
        if case .scalar = node, let (text, quoted) = Self.scalarText(node), !quoted {
            switch text {
            case "true", "True", "TRUE": return Located(true, at: location(of: node), path: path)
            case "false", "False", "FALSE": return Located(false, at: location(of: node), path: path)
            default: break
            }
        }
        error(node, path, "want true or false, found \(Self.describe(node))")
        return nil
    }

    func oneOf<T: RawRepresentable & CaseIterable & Sendable>(_ node: Node, _ path: String, _ type: T.Type) -> Located<T>?
        where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        if let value = T(rawValue: text.value) { return text.map { _ in value } }
        let allowed = T.allCases.map(\.rawValue)
        var message = "\"\(text.value.escapedForMessage)\" is not one of \(allowed.joined(separator: ", "))"
        if let near = Spelling.closest(to: text.value, among: allowed) { message += " (did you mean \"\(near)\"?)" }
        error(node, path, message)
        return nil
    }

    // MARK: Collections

    func mapping(_ node: Node, _ path: String) -> MappingReader? {
        guard visit(node) else { return nil }
        guard case .mapping = node else {
            error(node, path, "want a mapping of fields, found \(Self.describe(node))")
            return nil
        }
        return MappingReader(reader: self, node: node, path: path)
    }

    /// The elements of a list with their paths (`path[i]`).
    func sequence(_ node: Node, _ path: String) -> [(node: Node, path: String)]? {
        guard visit(node) else { return nil }
        guard case let .sequence(sequence, _) = node else {
            error(node, path, "want a list, found \(Self.describe(node))")
            return nil
        }
        var elements: [(Node, String)] = []
        for (index, element) in sequence.enumerated() {
            guard visit(element) else { return nil }
            elements.append((element, "\(path)[\(index)]"))
        }
        return elements
    }

    func stringList(_ node: Node, _ path: String) -> [Located<String>]? {
        guard let elements = sequence(node, path) else { return nil }
        return elements.compactMap { string($0.node, $0.path) }
    }

    /// A flat map of string keys to scalar values (labels, kernel arguments).
    func stringMap(_ node: Node, _ path: String) -> [(key: Located<String>, value: Located<String>)]? {
        guard let map = mapping(node, path) else { return nil }
        var out: [(Located<String>, Located<String>)] = []
        for entry in map.entries {
            map.markUsed(entry.key)
            let valuePath = "\(path).\(entry.key)"
            guard visit(entry.value) else { return nil }
            let value: Located<String>
            if Self.isNull(entry.value) {
                value = Located("", at: location(of: entry.value), path: valuePath)
            } else if let text = string(entry.value, valuePath) {
                value = text
            } else { continue }
            out.append((Located(entry.key, at: location(of: entry.keyNode), path: valuePath), value))
        }
        return out
    }
}

/// The fields of one YAML mapping. Every key must be asked for; `finish()` reports the rest as unknown.
final class MappingReader {
    let reader: DocumentReader
    let node: Node
    let path: String
    private(set) var entries: [(key: String, keyNode: Node, value: Node)] = []
    /// Asked-for keys, beside `entries`; a manifest mapping has a handful of keys, so a linear scan beats
    /// hashing (this reader runs for every mapping of thousands of documents).
    private var usedEntries: [Bool] = []
    private var usedAbsent: [String] = []

    init(reader: DocumentReader, node: Node, path: String) {
        self.reader = reader
        self.node = node
        self.path = path
        guard case let .mapping(mapping, _) = node else { return }
        for (keyNode, value) in mapping {
            guard case .scalar = keyNode, let (key, _) = DocumentReader.scalarText(keyNode) else {
                reader.error(keyNode, path, "keys must be plain field names, found \(DocumentReader.describe(keyNode))")
                continue
            }
            if key == "<<" {
                reader.error(keyNode, childPath(key), "YAML merge keys (<<) are not supported; write the fields out")
                continue
            }
            if let first = position(of: key) {
                let firstLine = reader.location(of: entries[first].keyNode).line
                reader.error(keyNode, childPath(key), "duplicate field (first set on line \(firstLine))")
                continue
            }
            entries.append((key, keyNode, value))
        }
        usedEntries = [Bool](repeating: false, count: entries.count)
    }

    private func position(of key: String) -> Int? { entries.firstIndex { $0.key == key } }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func markUsed(_ key: String) {
        if let position = position(of: key) { usedEntries[position] = true } else { usedAbsent.append(key) }
    }

    /// The value of `key`, or nil when absent or null.
    func take(_ key: String) -> Node? {
        guard let position = position(of: key) else {
            usedAbsent.append(key)
            return nil
        }
        usedEntries[position] = true
        let value = entries[position].value
        return DocumentReader.isNull(value) ? nil : value
    }

    /// Like `take`, but reports a missing field.
    func require(_ key: String, _ hint: String) -> Node? {
        if let value = take(key) { return value }
        reader.error(node, childPath(key), "is required (\(hint))")
        return nil
    }

    /// Reports every key nobody asked for, with a spelling suggestion when one is close, or else the fields this
    /// mapping takes. A misspelt required field is one error, not two: its "is required" is taken back into the
    /// unknown field's message.
    func finish() {
        guard usedEntries.contains(false) else { return }
        let known = entries.indices.filter { usedEntries[$0] }.map { entries[$0].key } + usedAbsent
        for (position, entry) in entries.enumerated() where !usedEntries[position] {
            var message = "unknown field \"\(entry.key.escapedForMessage)\""
            if let near = Spelling.closest(to: entry.key, among: known) {
                let nearPath = childPath(near)
                let required = reader.withdraw { $0.path == nearPath && $0.message.hasPrefix("is required") }
                message += " (did you mean \"\(near)\"?\(required ? " it is required" : ""))"
            } else if !known.isEmpty {
                message += "; the fields here are: " + Array(Set(known)).sorted().joined(separator: ", ")
            }
            reader.error(entry.keyNode, childPath(entry.key), message)
        }
    }

    // Typed conveniences: absent or null gives nil.
    func string(_ key: String) -> Located<String>? { take(key).flatMap { reader.string($0, childPath(key)) } }
    func int(_ key: String, range: ClosedRange<Int>, unit: String = "") -> Located<Int>? {
        take(key).flatMap { reader.int($0, childPath(key), range: range, unit: unit) }
    }
    func bool(_ key: String) -> Located<Bool>? { take(key).flatMap { reader.bool($0, childPath(key)) } }
    func oneOf<T: RawRepresentable & CaseIterable & Sendable>(_ key: String, _ type: T.Type) -> Located<T>?
        where T.RawValue == String {
        take(key).flatMap { reader.oneOf($0, childPath(key), type) }
    }
    func mapping(_ key: String) -> MappingReader? { take(key).flatMap { reader.mapping($0, childPath(key)) } }
    func sequence(_ key: String) -> [(node: Node, path: String)]? { take(key).flatMap { reader.sequence($0, childPath(key)) } }
    func stringList(_ key: String) -> [Located<String>]? { take(key).flatMap { reader.stringList($0, childPath(key)) } }
}

extension String {
    /// The string with control characters and quotes escaped, safe to quote in one line of output.
    var escapedForMessage: String {
        var out = ""
        for scalar in unicodeScalars.prefix(200) {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value) {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        if unicodeScalars.count > 200 { out += "…" }
        return out
    }
}
