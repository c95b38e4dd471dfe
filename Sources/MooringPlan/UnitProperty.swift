/// One property of a transient unit, by its D-Bus name and type (`Restart` "s", `TimeoutStopUSec` "t").
public enum UnitProperty: Sendable, Equatable, CustomStringConvertible {
    case string(name: String, value: String)
    case strings(name: String, values: [String])
    case uint32(name: String, value: UInt32)
    case uint64(name: String, value: UInt64)
    case bool(name: String, value: Bool)
    /// "a(ss)": `DeviceAllow` (path, permissions), `TemporaryFileSystem` (path, options).
    case pairs(name: String, values: [StringPair])
    /// "(bas)": `SystemCallFilter`, `RestrictAddressFamilies`; an allow list, or a deny list (`~` in unit files).
    case list(name: String, allow: Bool, values: [String])
    /// "a(ssbt)": `BindPaths`, each path bound onto itself, recursively.
    case binds(name: String, paths: [String])
    /// "aay": `LogExtraFields`, `FIELD=value` entries.
    case byteStrings(name: String, values: [String])

    public var name: String {
        switch self {
        case let .string(name, _), let .strings(name, _), let .uint32(name, _), let .uint64(name, _), let .bool(name, _),
             let .pairs(name, _), let .list(name, _, _), let .binds(name, _), let .byteStrings(name, _):
            return name
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
        case let .pairs(name, values): return "\(name)=\(values.map { "\($0.first):\($0.second)" }.joined(separator: " "))"
        case let .list(name, allow, values): return "\(name)=\(allow ? "" : "~")\(values.joined(separator: " "))"
        case let .binds(name, paths): return "\(name)=\(paths.joined(separator: " "))"
        case let .byteStrings(name, values): return "\(name)=\(values.joined(separator: " "))"
        }
    }
}

/// Two strings of an "a(ss)" property.
public struct StringPair: Sendable, Equatable {
    public var first: String
    public var second: String

    public init(_ first: String, _ second: String) {
        self.first = first
        self.second = second
    }
}
