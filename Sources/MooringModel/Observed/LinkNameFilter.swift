/// Link names to test every observed link against. A few names (a watch round's, the bridges) are compared one
/// by one, which beats hashing each of a thousand links' names to look them up (measured: a millisecond a plan at
/// a thousand taps); more names are hashed.
public struct LinkNameFilter: Sendable {
    private let names: Set<String>
    private let few: [String]?

    public init(_ names: Set<String>) {
        self.names = names
        few = names.count <= 16 ? Array(names) : nil
    }

    public func contains(_ name: String) -> Bool { few.map { $0.contains(name) } ?? names.contains(name) }
}
