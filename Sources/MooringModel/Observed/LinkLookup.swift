/// Observed links by name or by ifindex, kept as positions in the list: building one copies no link. A
/// dictionary of the links themselves copied every `ObservedLink` (a large value) per plan: 9% of a watch
/// round at a thousand taps (perf, docs/performance.md). The first link with a key wins, as before.
public struct LinkLookup<Key: Hashable & Sendable>: Sendable {
    private let links: [ObservedLink]
    private let positions: [Key: Int]

    /// The key is read by a closure the compiler inlines, not a key path: a generic key path read copied each
    /// link (measured: the lookups cost twice as much).
    @inline(__always)
    fileprivate init(_ links: [ObservedLink], key: (borrowing ObservedLink) -> Key) {
        var positions: [Key: Int] = [:]
        positions.reserveCapacity(links.count)
        for position in links.indices {
            let value = key(links[position])
            if positions[value] == nil { positions[value] = position }
        }
        self.links = links
        self.positions = positions
    }

    public subscript(key: Key) -> ObservedLink? { positions[key].map { links[$0] } }
}

extension LinkLookup where Key == String {
    public init(byName links: [ObservedLink]) { self.init(links) { $0.name } }
}

extension LinkLookup where Key == Int {
    public init(byIndex links: [ObservedLink]) { self.init(links) { $0.index } }
}
