import MooringModel

/// One field of a resource a change sets: `mtu` 1500 -> 9000, `master` null -> "br0".
public struct FieldChange: Sendable, Equatable {
    public var field: String
    public var before: JSONValue
    public var after: JSONValue

    public init(_ field: String, before: JSONValue, after: JSONValue) {
        self.field = field
        self.before = before
        self.after = after
    }
}
