/// mooring's nftables table, `inet mooring`, reduced to what decides equality: base chains, maps with
/// their elements, and each chain's rules in order. The planner builds the desired one; the driver reads
/// the live one into the same shape, so comparing them is `==`.
public struct NftTable: Sendable, Codable, Equatable {
    public static let family = "inet"
    public static let name = "mooring"
    /// The family of the guests' filter table, `bridge mooring` (GuestFilterPlanner).
    public static let bridgeFamily = "bridge"
    /// The family of the macvtaps' filter table, `netdev mooring`: a macvtap is no bridge port, so its guest's
    /// frames are checked where the macvtap sends them (GuestFilterPlanner).
    public static let netdevFamily = "netdev"

    /// `inet` (NAT and forwards) or `bridge` (the guests' filter).
    public var family: String = NftTable.family
    public var chains: [NftChain]
    public var maps: [NftMap]
    /// Plain sets (the bridge table's keys per guest port); elements sorted on normalising.
    public var sets: [NftSet] = []
    public var rules: [NftRule]
    /// Objects found in the live table that mooring never makes (a set, a counter, a flowtable someone added),
    /// as `kind name`: never part of a desired table, so any of them is drift, shown and removed on replace.
    public var others: [String]

    public init(chains: [NftChain] = [], maps: [NftMap] = [], rules: [NftRule] = [], others: [String] = []) {
        self.chains = chains
        self.maps = maps
        self.rules = rules
        self.others = others
    }

    /// Order-insensitive where nftables is (chains, maps, elements); rules keep their order per chain.
    public func normalized() -> NftTable {
        // A netdev chain's device is left out: libnftables 1.0.6 does not list it in JSON. The chain's name
        // carries it (GuestFilterPlanner.egressChain), so a chain for another device still differs by name.
        var table = NftTable(chains: chains.map { chain in var copy = chain; copy.device = nil; return copy }.sorted { $0.name < $1.name },
                 maps: maps.map { map in var copy = map; copy.elements.sort { $0.sortKey < $1.sortKey }; return copy }
                    .sorted { $0.name < $1.name },
                 rules: chains.sorted { $0.name < $1.name }.flatMap { chain in rules.filter { $0.chain == chain.name } }
                    + rules.filter { rule in !chains.contains { $0.name == rule.chain } },
                 others: others.sorted())
        table.family = family
        table.sets = sets.map { set in var copy = set; copy.elements.sort { $0.canonicalText < $1.canonicalText }; return copy }
            .sorted { $0.name < $1.name }
        return table
    }

    public func isEquivalent(to other: NftTable) -> Bool { normalized() == other.normalized() }
}

/// A base chain of mooring's table.
public struct NftChain: Sendable, Codable, Equatable, Hashable {
    public var name: String
    public var type: String
    public var hook: String
    public var priority: Int
    public var policy: String
    /// The device of a netdev chain (`hook egress device "vm-web-1-eth0"`); nil for other families.
    public var device: String?

    public init(name: String, type: String, hook: String, priority: Int, policy: String = "accept", device: String? = nil) {
        self.name = name
        self.type = type
        self.hook = hook
        self.priority = priority
        self.policy = policy
        self.device = device
    }
}

/// A plain set: a key type (`["ifname", "ether_addr"]`) and its elements as libnftables' JSON has them.
public struct NftSet: Sendable, Codable, Equatable, Hashable {
    public var name: String
    public var keyType: [String]
    public var elements: [JSONValue]

    public init(name: String, keyType: [String], elements: [JSONValue]) {
        self.name = name
        self.keyType = keyType
        self.elements = elements
    }
}

/// A verdict map of mooring's table.
public struct NftMap: Sendable, Codable, Equatable, Hashable {
    public var name: String
    /// The key type, e.g. `["inet_proto", "inet_service"]`.
    public var keyType: [String]
    /// The data type, e.g. `ipv4_addr . inet_service`.
    public var dataType: String
    public var flags: [String]
    public var elements: [NftMapElement]

    public init(name: String, keyType: [String], dataType: String, flags: [String], elements: [NftMapElement]) {
        self.name = name
        self.keyType = keyType
        self.dataType = dataType
        self.flags = flags
        self.elements = elements
    }
}

/// One element of a map: the key (`{"concat": ["ext0", 6, 80]}`) and the value (`"10.0.0.10"`), as libnftables'
/// JSON has them.
public struct NftMapElement: Sendable, Codable, Equatable, Hashable {
    public let key: JSONValue
    public let value: JSONValue
    /// The key's canonical text, made once where the element is made (for the observed table, on the
    /// nftables thread while the manifests load): sorting and comparing a thousand elements compare strings.
    /// Measured at 1000 forwards: the no-op plan phase 20 ms when hashing or sorting by the values, 11 ms so.
    let sortKey: String

    public init(key: JSONValue, value: JSONValue) {
        self.key = key
        self.value = value
        sortKey = key.canonicalText
    }

    private enum CodingKeys: String, CodingKey { case key, value }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(key: try container.decode(JSONValue.self, forKey: .key), value: try container.decode(JSONValue.self, forKey: .value))
    }

    public static func == (left: NftMapElement, right: NftMapElement) -> Bool {
        left.sortKey == right.sortKey && left.value == right.value
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(sortKey) }

    /// `[key, value]`, the form of an `elem` entry.
    public var json: JSONValue { [key, value] }

    /// Reads an `elem` entry; nil when it is not a `[key, value]` pair (the driver reports it, never drops it).
    public init?(json: JSONValue) {
        guard let pair = json.array, pair.count == 2 else { return nil }
        self.init(key: pair[0], value: pair[1])
    }
}

/// One rule: its chain, its comment, and its statements (libnftables' `expr` array).
public struct NftRule: Sendable, Codable, Equatable, Hashable {
    public var chain: String
    public var comment: String?
    public var expression: JSONValue

    public init(chain: String, comment: String?, expression: JSONValue) {
        self.chain = chain
        self.comment = comment
        self.expression = expression
    }
}
