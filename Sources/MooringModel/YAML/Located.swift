/// A value read from a manifest, with where it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation
    /// The field path inside its document, e.g. `spec.ports[1]`.
    public var path: String

    public init(_ value: Value, at location: SourceLocation, path: String) {
        self.value = value
        self.location = location
        self.path = path
    }

    public func map<T: Sendable>(_ transform: (Value) -> T) -> Located<T> {
        Located<T>(transform(value), at: location, path: path)
    }
}
