import Foundation

/// The result of reading and validating a manifest directory.
public struct ManifestLoadResult: Sendable {
    /// Nil when any error was found: a bad manifest set changes nothing.
    public var desired: DesiredState?
    /// Errors and warnings, in file order.
    public var diagnostics: [Diagnostic]
    /// Documents read, including ones meant for other hosts.
    public var documentsRead: Int
    /// With a host name: how many of the documents that host applies.
    public var documentsForHost: Int?
    /// Decoded documents by kind: with a host name only those it applies, otherwise all.
    public var countsByKind: [(ManifestKind, Int)] = []

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// Entry point of the pure core: a directory of YAML in, a validated `DesiredState` (or every error) out.
public enum ManifestSet {
    /// - Parameters:
    ///   - hostName: keep only documents whose `spec.hosts` (if any) names this host; nil keeps every document.
    ///   - hostLabels: this host's labels, matched against `spec.hostSelector`; the host's name is also the
    ///     label `mooring.dev/host`.
    public static func load(directory: String, hostName: String? = nil, hostLabels: [String: String] = [:],
                            limits: ManifestReadLimits = ManifestReadLimits()) -> ManifestLoadResult {
        let (files, readProblems) = ManifestDirectoryReader(limits: limits).read(directory)
        var result = parse(files: files, hostName: hostName, hostLabels: hostLabels)
        result.diagnostics = readProblems + result.diagnostics
        if !readProblems.filter({ $0.severity == .error }).isEmpty { result.desired = nil }
        return result
    }

    /// Each diagnostic with the line it points at, from the files' text. Lines are found by their bytes:
    /// splitting the text into `Substring` lines walks grapheme clusters, 8 ms of a 100 ms load at N = 1000
    /// for the one warning the benchmark's manifests draw.
    static func withSourceLines(_ diagnostics: [Diagnostic], _ files: [ManifestFile]) -> [Diagnostic] {
        var split: [String: (bytes: [UInt8], lineStarts: [Int])] = [:]
        let texts = Dictionary(files.map { ($0.path, $0.text) }, uniquingKeysWith: { first, _ in first })
        return diagnostics.map { diagnostic in
            guard let location = diagnostic.location, let text = texts[location.file] else { return diagnostic }
            if split[location.file] == nil {
                let bytes = Array(text.utf8)
                split[location.file] = (bytes, [0] + bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }.map { $0 + 1 })
            }
            guard let (bytes, starts) = split[location.file], location.line >= 1, location.line <= starts.count else { return diagnostic }
            let start = starts[location.line - 1]
            var end = location.line < starts.count ? starts[location.line] - 1 : bytes.count
            if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            var copy = diagnostic
            copy.sourceLine = String(decoding: bytes[start..<end], as: UTF8.self)
            return copy
        }
    }

    /// Parses and validates already-read files (the pure part of `load`).
    public static func parse(files: [ManifestFile], hostName: String? = nil, hostLabels: [String: String] = [:]) -> ManifestLoadResult {
        var diagnostics: [Diagnostic] = []
        var manifests: [Manifest] = []
        var documents = 0
        for (fileManifests, fileDiagnostics, count) in parseFiles(files) {
            manifests += fileManifests
            diagnostics += fileDiagnostics
            documents += count
        }
        var labels = hostLabels
        if let hostName { labels["mooring.dev/host"] = hostName }
        let desired: DesiredState?
        // With a host, only what that host applies is counted (the others were read, not used).
        var counted = manifests
        if let hostName {
            let selected = manifests.filter { $0.applies(toHost: hostName, labels: labels) }
            counted = selected
            var validator = ManifestSetValidator(manifests: selected)
            desired = validator.validate()
            diagnostics += validator.diagnostics
        } else {
            // For the whole fleet: every host a `spec.hosts` names sees its own set, and so does a host no list
            // names; each set is validated, and the findings merged. Selector documents are in every set.
            let named = Set(manifests.flatMap { $0.hosts?.map(\.value) ?? [] }).sorted()
            var first: DesiredState?
            var seen: Set<Diagnostic> = []
            for host in [nil] + named.map(Optional.some) {
                let selected = manifests.filter { manifest in
                    guard let hosts = manifest.hosts else { return true }
                    return host.map { name in hosts.contains { $0.value == name } } ?? false
                }
                var validator = ManifestSetValidator(manifests: selected)
                let state = validator.validate()
                first = first ?? state
                for diagnostic in validator.diagnostics where seen.insert(diagnostic).inserted { diagnostics.append(diagnostic) }
            }
            desired = first
        }
        diagnostics = withSourceLines(sortedByPosition(diagnostics), files)
        let hasErrors = diagnostics.contains { $0.severity == .error }
        var counts: [ManifestKind: Int] = [:]
        for manifest in counted { counts[manifest.origin.kind, default: 0] += 1 }
        return ManifestLoadResult(desired: hasErrors ? nil : desired, diagnostics: diagnostics, documentsRead: documents,
                                  documentsForHost: hostName == nil ? nil : counted.count,
                                  countsByKind: ManifestKind.allCases.compactMap { kind in counts[kind].map { (kind, $0) } })
    }

    /// Where `key` is written again at the same column after its first occurrence (the composer reports only the first).
    static func repeatedKeyLocation(_ key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        for number in first.line..<lines.count {
            let line = lines[number]
            let indent = line.prefix { $0 == " " }.count
            guard indent == first.column - 1 else { continue }
            let rest = line.dropFirst(indent)
            if rest.hasPrefix(key), rest.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                return (number + 1, indent + 1)
            }
        }
        return nil
    }

    /// File order, then line and column; findings without a position keep their place at the front.
    static func sortedByPosition(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case let (left?, right?):
                if left.file != right.file { return left.file < right.file }
                if left.line != right.line { return left.line < right.line }
                if left.column != right.column { return left.column < right.column }
                return a.offset < b.offset
            case (nil, .some): return true
            case (.some, nil): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
    }

    /// Files, and large multi-document files cut at their `---` lines, are parsed on every core: documents
    /// are independent in YAML (anchors do not cross them), and a parser reads one stream at a time.
    /// Results come back in file and document order, so diagnostics do not depend on scheduling.
    static func parseFiles(_ files: [ManifestFile]) -> [([Manifest], [Diagnostic], Int)] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let pieces = files.flatMap { file in
            chunks(of: file.text, into: cores).map { (path: file.path, text: $0.text, lineOffset: $0.lineOffset) }
        }
        if pieces.count <= 1 { return pieces.map { parseChunk($0.text, path: $0.path, lineOffset: $0.lineOffset) } }
        var results = [([Manifest], [Diagnostic], Int)](repeating: ([], [], 0), count: pieces.count)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeSlots(slots)
            // Threads of our own, not DispatchQueue.concurrentPerform: libdispatch's workers set their nice value
            // by QoS, which needs CAP_SYS_NICE once lowered, and under the shipped units' capability bounding set
            // every run logged 2-3 "Failed to set thread priority for worker thread ... errno=1" to the journal.
            let workers = min(cores, pieces.count)
            let done = DispatchSemaphore(value: 0)
            for worker in 0..<workers {
                let thread = Thread {
                    for index in stride(from: worker, to: pieces.count, by: workers) {
                        let piece = pieces[index]
                        slots.base[index] = parseChunk(piece.text, path: piece.path, lineOffset: piece.lineOffset)
                    }
                    done.signal()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            for _ in 0..<workers { done.wait() }
        }
        return results
    }

    /// Cuts `text` before lines that start a document (`---` at column 0), into about `count` pieces of
    /// similar size. Files with directives (`%YAML`) or fewer than 64 documents stay whole.
    static func chunks(of text: String, into count: Int) -> [(text: Substring, lineOffset: Int)] {
        guard count > 1, text.utf8.count > 64 * 1024 else { return [(text[...], 0)] }
        var starts: [(index: String.Index, line: Int)] = []
        var line = 0
        var index = text.startIndex
        let bytes = text.utf8
        var atLineStart = true
        while index < text.endIndex {
            if atLineStart {
                let rest = text[index...]
                if rest.hasPrefix("%") { return [(text[...], 0)] }
                if rest.hasPrefix("---"), rest.dropFirst(3).first.map({ $0 == "\n" || $0 == " " || $0 == "\t" }) ?? true {
                    starts.append((index, line))
                }
            }
            let byte = bytes[index]
            atLineStart = byte == UInt8(ascii: "\n")
            if atLineStart { line += 1 }
            index = bytes.index(after: index)
        }
        guard starts.count >= 64 else { return [(text[...], 0)] }
        let target = bytes.count / count
        var pieces: [(Substring, Int)] = []
        var pieceStart = (index: text.startIndex, line: 0)
        for start in starts where bytes.distance(from: pieceStart.index, to: start.index) >= target && pieces.count < count - 1 {
            pieces.append((text[pieceStart.index..<start.index], pieceStart.line))
            pieceStart = start
        }
        pieces.append((text[pieceStart.index...], pieceStart.line))
        return pieces
    }

    static func parseChunk(_ text: Substring, path: String, lineOffset: Int) -> ([Manifest], [Diagnostic], Int) {
        var manifests: [Manifest] = []
        var diagnostics: [Diagnostic] = []
        var count = 0
        do throws(YAMLSyntaxError) {
            let parser = try YAMLComposer(text: String(text))
            while let root = try parser.nextRoot() {
                // An empty document (a stray `---`) is not a manifest.
                if DocumentReader.isNull(root) { continue }
                count += 1
                let start = root.mark.map { SourceLocation(file: path, line: $0.line + lineOffset, column: $0.column) }
                    ?? SourceLocation(file: path, line: lineOffset + 1, column: 1)
                let reader = DocumentReader(file: path, documentLocation: start, lineOffset: lineOffset)
                if let manifest = ManifestDecoder(reader: reader, root: root).decode() { manifests.append(manifest) }
                diagnostics += reader.diagnostics
            }
        } catch {
            var diagnostic = syntaxDiagnostic(error, file: path, text: String(text))
            if var location = diagnostic.location, lineOffset > 0 {
                location.line += lineOffset
                diagnostic.location = location
            }
            diagnostics.append(diagnostic)
        }
        return (manifests, diagnostics, count)
    }

    static func syntaxDiagnostic(_ error: YAMLSyntaxError, file: String, text: String) -> Diagnostic {
        switch error {
        case let .located(problem, mark, context):
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return .error(at: SourceLocation(file: file, line: mark.line, column: mark.column), message)
        case let .duplicateKey(key, first):
            let again = repeatedKeyLocation(key, after: first, in: text)
            let location = SourceLocation(file: file, line: again?.line ?? first.line, column: again?.column ?? first.column)
            return .error(at: location, path: key,
                          "duplicate field \"\(key.escapedForMessage)\" (first set on line \(first.line)); keep one")
        case let .reader(problem, offset):
            var line = 1, column = 1
            if let offset {
                for character in text.unicodeScalars.prefix(offset) {
                    if character == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            return .error(at: SourceLocation(file: file, line: line, column: column), "cannot read YAML: \(problem)")
        case .outOfMemory:
            return .error(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: out of memory")
        }
    }
}

/// Lets the parsing threads fill their own slots of one buffer.
private struct UnsafeSlots<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
    init(_ base: UnsafeMutableBufferPointer<T>) { self.base = base }
}
