import CYAML

/// Composes YAML documents into `Node`s straight from libyaml's events.
///
/// libyaml (Debian's libyaml-dev, through pkg-config) gives the events; nothing else stands in between.
/// Yams' composer, used before, built a node with a tag object, an anchor and a boxed event per value,
/// decoded every scalar through Foundation and hashed every mapping's keys to find duplicates: on a manifest
/// set for 1000 MicroVMs that was a third of the time spent reading it, and mooring reached into Yams'
/// internal CYaml target for the events. This keeps only what the strict reader uses.
final class YAMLComposer {
    private var parser = yaml_parser_t()
    /// libyaml reads the input in place; the copy lives as long as the parser.
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let text: String
    /// Anchors stay defined for the rest of the stream, as YAML (and Yams) have it.
    private var anchors: [String: Node] = [:]
    /// Collections nest at most this deep. Composing recurses once per level, and libyaml 0.2.5 (Debian's) has
    /// no nesting limit of its own: `[[[[...` a hundred thousand deep would overflow the stack. Manifests nest
    /// a handful of levels.
    static let maxNesting = 256

    init(text: String) throws(YAMLSyntaxError) {
        self.text = text
        let count = text.utf8.count
        input = .allocate(capacity: max(count, 1))
        _ = input.initialize(from: text.utf8)
        guard yaml_parser_initialize(&parser) == 1 else {
            input.deallocate()
            throw .outOfMemory
        }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, input.baseAddress, count)
        var event = yaml_event_t()
        try next(&event)  // STREAM-START
        yaml_event_delete(&event)
    }

    deinit {
        yaml_parser_delete(&parser)
        input.deallocate()
    }

    /// The next document's root node; nil at the end of the stream.
    func nextRoot() throws(YAMLSyntaxError) -> Node? {
        guard parser.stream_end_produced == 0 else { return nil }
        var event = yaml_event_t()
        try next(&event)
        defer { yaml_event_delete(&event) }
        if event.type == YAML_STREAM_END_EVENT { return nil }
        // DOCUMENT-START, then the root node, then DOCUMENT-END.
        var rootEvent = yaml_event_t()
        try next(&rootEvent)
        let root = try node(from: &rootEvent, depth: 0)
        var end = yaml_event_t()
        try next(&end)
        yaml_event_delete(&end)
        return root
    }

    private func next(_ event: inout yaml_event_t) throws(YAMLSyntaxError) {
        guard yaml_parser_parse(&parser, &event) == 1 else { throw error() }
    }

    /// Composes the node `event` starts, consuming (and freeing) `event` and every event of the node.
    private func node(from event: inout yaml_event_t, depth: Int) throws(YAMLSyntaxError) -> Node {
        defer { yaml_event_delete(&event) }
        let mark = Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        if depth >= Self.maxNesting, event.type == YAML_SEQUENCE_START_EVENT || event.type == YAML_MAPPING_START_EVENT {
            throw .located(problem: "collections nest deeper than \(Self.maxNesting) levels", mark: mark, context: nil)
        }
        switch event.type {
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            guard let node = anchors[name] else {
                throw .located(problem: "found undefined alias", mark: mark, context: nil)
            }
            return node
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let string = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let node = Node.scalar(.init(string: string, style: Self.style(scalar.style), mark: mark))
            register(scalar.anchor, node)
            return node
        case YAML_SEQUENCE_START_EVENT:
            let anchor = event.data.sequence_start.anchor
            var elements: [Node] = []
            while true {
                var child = yaml_event_t()
                try next(&child)
                if child.type == YAML_SEQUENCE_END_EVENT { yaml_event_delete(&child); break }
                elements.append(try node(from: &child, depth: depth + 1))
            }
            let node = Node.sequence(elements, mark)
            register(anchor, node)
            return node
        case YAML_MAPPING_START_EVENT:
            let anchor = event.data.mapping_start.anchor
            var pairs: [(key: Node, value: Node)] = []
            while true {
                var keyEvent = yaml_event_t()
                try next(&keyEvent)
                if keyEvent.type == YAML_MAPPING_END_EVENT { yaml_event_delete(&keyEvent); break }
                let key = try node(from: &keyEvent, depth: depth + 1)
                var valueEvent = yaml_event_t()
                try next(&valueEvent)
                pairs.append((key, try node(from: &valueEvent, depth: depth + 1)))
            }
            try Self.checkDuplicates(pairs)
            let node = Node.mapping(pairs, mark)
            register(anchor, node)
            return node
        default:
            throw .located(problem: "unexpected YAML event", mark: mark, context: nil)
        }
    }

    private func register(_ anchor: UnsafeMutablePointer<yaml_char_t>?, _ node: Node) {
        guard let anchor else { return }
        anchors[String(cString: anchor)] = node
    }

    private static func style(_ style: yaml_scalar_style_t) -> Node.Scalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }

    /// A key written twice is an error of the whole text, as in Yams: the alphabetically first repeated key
    /// is reported at its first occurrence. Manifest mappings have a handful of keys, so pairs are compared.
    private static func checkDuplicates(_ pairs: [(key: Node, value: Node)]) throws(YAMLSyntaxError) {
        var repeated: (key: String, first: Mark)?
        for (index, pair) in pairs.enumerated() {
            guard let key = scalarText(pair.key), repeated.map({ key < $0.key }) ?? true,
                  let first = pairs[..<index].first(where: { scalarText($0.key) == key }),
                  let mark = first.key.mark else { continue }
            repeated = (key, mark)
        }
        if let repeated { throw .duplicateKey(key: repeated.key, first: repeated.first) }
    }

    private static func scalarText(_ node: Node) -> String? {
        if case .scalar(let scalar) = node { scalar.string } else { nil }
    }

    private func error() -> YAMLSyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return .outOfMemory
        case YAML_READER_ERROR:
            // libyaml counts bytes; report characters, as a person counts them.
            let index = text.utf8.index(text.utf8.startIndex, offsetBy: parser.problem_offset, limitedBy: text.utf8.endIndex)?
                .samePosition(in: text)
            return .reader(problem: problem, offset: index.map { text.distance(from: text.startIndex, to: $0) })
        default:
            let mark = Mark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
            let context = parser.context.map { context in
                (text: String(cString: context),
                 mark: Mark(line: Int(parser.context_mark.line) + 1, column: Int(parser.context_mark.column) + 1))
            }
            return .located(problem: problem, mark: mark, context: context)
        }
    }
}
