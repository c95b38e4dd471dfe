/// One property of a transient unit, by its D-Bus name and type (`Restart` "s", `TimeoutStopUSec` "t").
public enum UnitProperty: Sendable, Equatable, CustomStringConvertible {
    case string(name: String, value: String)
    case strings(name: String, values: [String])
    case uint32(name: String, value: UInt32)
    case uint64(name: String, value: UInt64)
    case bool(name: String, value: Bool)

    public var name: String {
        switch self {
        case let .string(name, _), let .strings(name, _), let .uint32(name, _), let .uint64(name, _), let .bool(name, _): return name
        }
    }

    /// `Restart=on-failure`, as in a unit file (and in the spec hash).
    public var description: String {
        switch self {
        case let .string(name, value): return "\(name)=\(value)"
        case let .strings(name, values): return "\(name)=\(values.joined(separator: " "))"
        case let .uint32(name, value): return "\(name)=\(value)"
        case let .uint64(name, value): return "\(name)=\(value)"
        case let .bool(name, value): return "\(name)=\(value ? "yes" : "no")"
        }
    }
}
