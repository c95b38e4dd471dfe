/// A position in a YAML text, 1-based.
struct Mark: Sendable, Equatable {
    var line: Int
    var column: Int
}

/// One node of a composed YAML document: what the strict reader needs (source text, quoting style and
/// position), nothing more. Tags are not kept: scalars are read from their source text.
enum Node: Sendable {
    case scalar(Scalar)
    case mapping([(key: Node, value: Node)], Mark)
    case sequence([Node], Mark)

    struct Scalar: Sendable {
        enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
        var string: String
        var style: Style
        var mark: Mark
    }

    var mark: Mark? {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(_, let mark), .sequence(_, let mark): mark
        }
    }
}

/// Why a YAML text could not be composed, with libyaml's own words.
enum YAMLSyntaxError: Error {
    /// A scanner, parser or composer error at `mark`, with what was being read when it happened.
    case located(problem: String, mark: Mark, context: (text: String, mark: Mark)?)
    /// A key written twice in one mapping; `first` is where it was first written.
    case duplicateKey(key: String, first: Mark)
    /// Bytes that are not YAML text (invalid UTF-8, control characters); `offset` counts characters.
    case reader(problem: String, offset: Int?)
    case outOfMemory
}
