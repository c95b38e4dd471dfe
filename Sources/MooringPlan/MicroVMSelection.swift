import MooringModel

/// Some MicroVMs by name, all of them, or none.
public enum MicroVMSelection: Sendable, Codable, Equatable {
    case none
    case named(Set<String>)
    case all

    public func contains(_ name: String) -> Bool {
        switch self {
        case .none: return false
        case let .named(names): return names.contains(name)
        case .all: return true
        }
    }
}
