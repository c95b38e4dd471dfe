import CNftables
import Foundation
import MooringModel
import MooringPlan

/// Reads and replaces mooring's tables, `inet mooring` (NAT), `bridge mooring` and `netdev mooring` (the guests'
/// filters), through libnftables' JSON API. No other table is ever listed, changed or flushed. Confined to its namespace thread.
public final class NftablesDriver: @unchecked Sendable {
    private let context: OpaquePointer

    public init() throws {
        guard let context = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else { throw DriverError("nftables: cannot create a context") }
        self.context = context
        // Numeric protocols: naming the protocol of each map element costs libnftables a getprotobynumber()
        // (an open and read of /etc/protocols) each, half the listing time for a thousand forwards.
        nft_ctx_output_set_flags(context, UInt32(NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_NUMERIC_PROTO))
        // Capture output and errors instead of letting libnftables print them.
        guard nft_ctx_buffer_output(context) == 0, nft_ctx_buffer_error(context) == 0 else {
            throw DriverError("nftables: cannot buffer output")
        }
    }

    deinit { nft_ctx_free(context) }

    /// Runs one buffer (one netlink batch: all or nothing) and returns libnftables' output.
    private func run(_ command: String) throws -> String {
        let rc = nft_run_cmd_from_buffer(context, command)
        // Both buffers must be read after every run, or their text shows up in the next one.
        let output = String(cString: nft_ctx_get_output_buffer(context))
        let error = String(cString: nft_ctx_get_error_buffer(context))
        if rc != 0 { throw NftablesError(message: Self.cleaned(error)) }
        return output
    }

    /// libnftables quotes the wrong source line for multi-line buffers; keep its message lines only.
    static func cleaned(_ text: String) -> String {
        let lines = text.split(separator: "\n").map(String.init).filter { $0.contains("Error:") }
        let messages = lines.map { line in line.range(of: "Error: ").map { String(line[$0.upperBound...]) } ?? line }
        return messages.isEmpty ? text.trimmingCharacters(in: .whitespacesAndNewlines) : messages.joined(separator: "; ")
    }

    // MARK: Observe

    /// The live table of `family` (`inet mooring` by default), normalised, or nil when it does not exist.
    public func observe(family: String = NftTable.family) throws -> NftTable? {
        let output: String
        do {
            output = try run("list table \(family) \(NftTable.name)")
        } catch let error as NftablesError where error.message.contains("No such file or directory") {
            return nil
        }
        guard let items = JSONValue.parse(output)?["nftables"]?.array else {
            throw DriverError("nftables: cannot read the JSON listing of table \(family) mooring")
        }
        var table = NftTable()
        table.family = family
        for item in items {
            if let chain = item["chain"].flatMap(Self.chain) {
                table.chains.append(chain)
            } else if let map = item["map"], let name = map["name"]?.string {
                var elements: [NftMapElement] = []
                for entry in map["elem"]?.array ?? [] {
                    // An entry that is not a [key, value] pair is drift that says what it is, never skipped.
                    if let element = NftMapElement(json: entry) { elements.append(element) }
                    else { table.others.append("element \(entry.canonicalText) of map \(name)") }
                }
                table.maps.append(NftMap(name: name, keyType: Self.strings(map["type"]),
                                         dataType: Self.strings(map["map"]).joined(separator: " . "),
                                         flags: Self.strings(map["flags"]), elements: elements))
            } else if family != NftTable.family, let set = item["set"], let name = set["name"]?.string {
                // Sets are the guests' filters' own; in `inet mooring` one is drift (below).
                table.sets.append(NftSet(name: name, keyType: Self.strings(set["type"]), elements: set["elem"]?.array ?? []))
            } else if let rule = item["rule"], let chain = rule["chain"]?.string {
                table.rules.append(NftRule(chain: chain, comment: rule["comment"]?.string, expression: Self.inBytes(rule["expr"] ?? [])))
            } else if let kind = item.objectKeys?.first, !["table", "metainfo"].contains(kind) {
                // Anything else in mooring's table is drift: kept visible, never skipped.
                table.others.append("\(kind) \(item[kind]?["name"]?.string ?? item[kind]?.canonicalText ?? "")")
            }
        }
        return table
    }

    /// libnftables lists a limit in the largest unit that divides it (`64 kbytes`); mooring writes bytes. Read
    /// back in bytes, so a table compares equal to the one written.
    static func inBytes(_ expression: JSONValue) -> JSONValue {
        let scale = ["bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024, "gbytes": 1024 * 1024 * 1024]
        switch expression {
        case let .array(items):
            return .array(items.map(inBytes))
        case let .object(pairs) where pairs.count == 1 && pairs[0].key == "limit":
            guard case let .object(fields) = pairs[0].value else { return expression }
            var out = fields
            for (value, unit) in [("rate", "rate_unit"), ("burst", "burst_unit")] {
                guard let index = out.firstIndex(where: { $0.key == value }), let number = out[index].value.int,
                      let unitIndex = out.firstIndex(where: { $0.key == unit }), let factor = out[unitIndex].value.string.flatMap({ scale[$0] })
                else { continue }
                out[index].value = JSONValue(number * factor)
                out[unitIndex].value = "bytes"
            }
            return .object([(key: "limit", value: .object(out))])
        default:
            return expression
        }
    }

    /// Every base chain of every other table, for `mooring doctor` only: planning never reads other tables.
    public func foreignBaseChains() throws -> [(family: String, table: String, chain: NftChain)] {
        guard let items = JSONValue.parse(try run("list chains"))?["nftables"]?.array else { return [] }
        return items.compactMap { item in
            guard let object = item["chain"], let chain = Self.chain(object), !chain.hook.isEmpty,
                  let table = object["table"]?.string, let family = object["family"]?.string,
                  !([NftTable.family, NftTable.bridgeFamily, NftTable.netdevFamily].contains(family) && table == NftTable.name) else { return nil }
            return (family, table, chain)
        }
    }

    /// A chain object of a libnftables listing; nil without a name.
    private static func chain(_ chain: JSONValue) -> NftChain? {
        guard let name = chain["name"]?.string else { return nil }
        return NftChain(name: name, type: chain["type"]?.string ?? "", hook: chain["hook"]?.string ?? "",
                        priority: chain["prio"]?.int ?? 0, policy: chain["policy"]?.string ?? "accept")
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        if let one = value?.string { return [one] }
        return value?.array?.compactMap(\.string) ?? []
    }

    // MARK: Execute

    /// Replaces the whole table in one transaction: a packet sees the old table or the new one, never a mix.
    /// The leading `add table` makes the `delete` valid when the table does not exist yet.
    /// The table is values throughout (rules, elements: `JSONValue`), serialised once here: nothing can be
    /// unparsable on the way, and nothing is dropped.
    public func replace(with table: NftTable) throws {
        let family = table.family
        var commands = Self.tableCommands(family)
        commands.append(["add": ["table": Self.tableObject(family)]])
        func inTable(_ object: JSONValue) -> JSONValue { Self.inTable(object, family) }
        for chain in table.chains {
            // A regular chain (jumped to) has no type, hook, priority or policy.
            var object: JSONValue = chain.hook.isEmpty ? ["name": .string(chain.name)]
                : ["name": .string(chain.name), "type": .string(chain.type), "hook": .string(chain.hook),
                   "prio": JSONValue(chain.priority), "policy": .string(chain.policy)]
            if let device = chain.device, case let .object(pairs) = object { object = .object(pairs + [("dev", .string(device))]) }
            commands.append(["add": ["chain": inTable(object)]])
        }
        for map in table.maps {
            var object: [(key: String, value: JSONValue)] = [
                ("name", .string(map.name)),
                ("type", map.keyType.count == 1 ? .string(map.keyType[0]) : .array(map.keyType.map(JSONValue.string))),
                ("map", .string(map.dataType)), ("flags", .array(map.flags.map(JSONValue.string))),
            ]
            if !map.elements.isEmpty { object.append(("elem", .array(map.elements.map(\.json)))) }
            commands.append(["add": ["map": inTable(.object(object))]])
        }
        for set in table.sets {
            var object: [(key: String, value: JSONValue)] = [
                ("name", .string(set.name)),
                ("type", set.keyType.count == 1 ? .string(set.keyType[0]) : .array(set.keyType.map(JSONValue.string))),
            ]
            if !set.elements.isEmpty { object.append(("elem", .array(set.elements))) }
            commands.append(["add": ["set": inTable(.object(object))]])
        }
        for rule in table.rules {
            var object: [(key: String, value: JSONValue)] = [("chain", .string(rule.chain)), ("expr", rule.expression)]
            if let comment = rule.comment { object.append(("comment", .string(comment))) }
            commands.append(["add": ["rule": inTable(.object(object))]])
        }
        _ = try run((["nftables": .array(commands)] as JSONValue).canonicalText)
    }

    public func delete(family: String = NftTable.family) throws {
        _ = try run((["nftables": .array(Self.tableCommands(family))] as JSONValue).canonicalText)
    }

    private static func tableObject(_ family: String) -> JSONValue { ["family": .string(family), "name": .string(NftTable.name)] }

    private static func tableCommands(_ family: String) -> [JSONValue] {
        [["add": ["table": tableObject(family)]], ["delete": ["table": tableObject(family)]]]
    }

    private static func inTable(_ object: JSONValue, _ family: String) -> JSONValue {
        guard case .object(let pairs) = object else { return object }
        return .object(pairs + [("family", .string(family)), ("table", .string(NftTable.name))])
    }
}

/// libnftables refused a command; the message is its own text.
public struct NftablesError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "nftables: \(message)" }
}
