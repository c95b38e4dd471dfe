import CNetlink
import Foundation
import MooringModel
import MooringPlan

/// Observes links and addresses (one dump each) and executes link operations in batches.
/// Must be used on one thread (a `NamespaceThread` for `--netns`): its sockets belong to that thread's namespace.
public final class NetlinkDriver: @unchecked Sendable {
    private let socket: NetlinkSocket
    /// For dumps filtered by interface (NetlinkSocket's `strict`), made on first use: a watch round's few links.
    private var filteringSocket: NetlinkSocket?
    /// Link indexes by name as last observed or created; cleared for names deleted since.
    private var indexes: [String: Int32] = [:]
    private var groupsInUse: Set<UInt32> = []
    /// Every index observed or handed out, so a reserved index is never one that exists.
    private var indexesInUse: Set<Int32> = []

    public init() throws {
        socket = try NetlinkSocket()
    }

    // MARK: Observe

    /// Every link with its addresses: one link dump and one address dump, whatever the number of links.
    public func observeLinks() throws -> [ObservedLink] {
        var parsed: [ParsedLink] = []
        try socket.dump(LinkRequests.dumpLinks()) { header in
            if let link = LinkDumpParser.link(header) { parsed.append(link) }
        }
        let names = Dictionary(parsed.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
        var links = parsed.map { $0.resolved(names: names) }
        try attachAddressesAndRoutes(&links)
        indexes = Dictionary(links.map { ($0.name, Int32($0.index)) }, uniquingKeysWith: { first, _ in first })
        indexesInUse = Set(links.map { Int32($0.index) })
        groupsInUse = Set(links.map(\.group))
        return links
    }

    /// The named links only, one RTM_GETLINK each (all in one send), instead of a dump of every link: a watch
    /// round about a few links on a host with a thousand. Their addresses and routes come from dumps filtered
    /// by interface. Names that exist no more are simply not in the result.
    public func observeLinks(named names: Set<String>) throws -> [ObservedLink] {
        let ordered = names.sorted()
        var parsed: [ParsedLink] = []
        let failures = try socket.request(ordered.map { LinkRequests.get(name: $0) }) { header in
            if let link = LinkDumpParser.link(header) { parsed.append(link) }
        }
        // The links they refer to by index are named from what this driver last saw, these links first.
        var names = Dictionary(indexes.map { (Int($0.value), $0.key) }, uniquingKeysWith: { first, _ in first })
        for link in parsed { names[link.index] = link.name }
        var links = parsed.map { $0.resolved(names: names) }
        for (position, failure) in failures where failure.errno != ENODEV {
            throw DriverError("netlink: reading link \(ordered[position]) failed: \(failure)")
        }
        // Their addresses and routes only: a whole address dump walks every interface in the kernel (measured:
        // a fifth of a round's time at a thousand taps, though taps have no addresses).
        if filteringSocket == nil { filteringSocket = try NetlinkSocket(strict: true) }
        let filtering = filteringSocket!
        var staticFDB: [Int: [MACAddress]] = [:]
        if links.contains(where: { $0.learning == false }) {
            try filtering.dump(LinkRequests.dumpFDB()) { header in
                if let (index, mac) = LinkDumpParser.staticFDBEntry(header) { staticFDB[index, default: []].append(mac) }
            }
        }
        for position in links.indices {
            let index = links[position].index
            var addresses: [CIDR] = []
            try filtering.dump(LinkRequests.dumpAddresses(index: Int32(index))) { header in
                if let (at, address) = LinkDumpParser.address(header), at == index { addresses.append(address) }
            }
            var routes: [ObservedRoute] = []
            try filtering.dump(LinkRequests.dumpRoutes(outputInterface: Int32(index))) { header in
                if let (at, route) = LinkDumpParser.route(header), at == index { routes.append(route) }
            }
            links[position].addresses = addresses.sorted()
            links[position].routes = routes
            links[position].staticFDB = staticFDB[index] ?? []
        }
        for link in links {
            indexes[link.name] = Int32(link.index)
            indexesInUse.insert(Int32(link.index))
            groupsInUse.insert(link.group)
        }
        for position in failures.keys { indexes[ordered[position]] = nil }
        return links
    }

    /// Every link's addresses, routes and static forwarding entries, from one dump each.
    private func attachAddressesAndRoutes(_ links: inout [ObservedLink]) throws {
        var addresses: [Int: [CIDR]] = [:]
        try socket.dump(LinkRequests.dumpAddresses()) { header in
            if let (index, address) = LinkDumpParser.address(header) { addresses[index, default: []].append(address) }
        }
        var routes: [Int: [ObservedRoute]] = [:]
        try socket.dump(LinkRequests.dumpRoutes()) { header in
            if let (index, route) = LinkDumpParser.route(header) { routes[index, default: []].append(route) }
        }
        // The forwarding table only matters for ports with learning off (their static entries); a host without
        // any is spared the dump, which lists every MAC every bridge has seen.
        var staticFDB: [Int: [MACAddress]] = [:]
        if links.contains(where: { $0.learning == false }) {
            try socket.dump(LinkRequests.dumpFDB()) { header in
                if let (index, mac) = LinkDumpParser.staticFDBEntry(header) { staticFDB[index, default: []].append(mac) }
            }
        }
        for position in links.indices {
            links[position].addresses = (addresses[links[position].index] ?? []).sorted()
            links[position].routes = routes[links[position].index] ?? []
            links[position].staticFDB = staticFDB[links[position].index] ?? []
        }
    }

    // MARK: Execute

    /// Executes link operations in order, many per netlink send. `completed(i)` is called once operation
    /// `i` is known done; `flushAfter(i)` forces the batch out after operation `i` (crash tests use it).
    public func apply(_ operations: [Action], flushAfter: (Int) -> Bool = { _ in false },
                      completed: (Int) throws -> Void = { _ in }) throws {
        var batch = Batch(socket: socket)
        var position = 0
        while position < operations.count {
            // A run of deletes is one group delete.
            if case .deleteLink = operations[position] {
                var end = position
                while end < operations.count, case .deleteLink = operations[end], !(end > position && flushAfter(end - 1)) { end += 1 }
                try queueDeletes(Array(position..<end), operations, &batch, completed)
                if flushAfter(end - 1) { try batch.flush(completed) }
                position = end
                continue
            }
            try queue(position, operations[position], &batch, completed)
            if flushAfter(position) { try batch.flush(completed) }
            position += 1
        }
        try batch.flush(completed)
    }

    func index(of name: String, _ batch: inout Batch, _ completed: (Int) throws -> Void) throws -> Int32 {
        if let known = indexes[name] { return known }
        // Created in this run: its requests must reach the kernel before it has an index.
        try batch.flush(completed)
        let found = if_nametoindex(name)
        guard found != 0 else { throw DriverError("link \(name) does not exist") }
        indexes[name] = Int32(found)
        return Int32(found)
    }

    private func queue(_ position: Int, _ operation: Action, _ batch: inout Batch,
                       _ completed: (Int) throws -> Void) throws {
        switch operation {
        case let .createLink(name, alias, master, mtu, config):
            let create = LinkCreation(name: name, alias: alias, master: master, mtu: mtu, position: position, operation: operation)
            try config.netlink.queue(create, on: self, &batch, completed)

        case let .setMaster(link, master):
            let masterIndex = try master.map { try index(of: $0, &batch, completed) } ?? 0
            batch.add([LinkRequests.set(name: link, master: masterIndex)], for: position, operation)
        case let .setMTU(link, mtu):
            batch.add([LinkRequests.set(name: link, mtu: mtu)], for: position, operation)
        case let .pinBridgeMTU(link, mtu):
            batch.add(LinkRequests.pinnedMTU(name: link, mtu: mtu), for: position, operation)
        case let .setMAC(link, mac):
            batch.add([LinkRequests.set(name: link, mac: mac)], for: position, operation)
        case let .setUp(link):
            batch.add([LinkRequests.set(name: link, up: true)], for: position, operation)
        case let .setPortIsolation(link, isolated):
            batch.add([LinkRequests.portIsolation(name: link, isolated: isolated)], for: position, operation)
        case let .setPortLearning(link, learning):
            batch.add([LinkRequests.portLearning(name: link, learning: learning)], for: position, operation)
        case let .addStaticFDB(link, mac):
            let linkIndex = try index(of: link, &batch, completed)
            batch.add([LinkRequests.staticFDB(add: true, index: linkIndex, mac: mac)], for: position, operation)
        case let .deleteStaticFDB(link, mac):
            let linkIndex = try index(of: link, &batch, completed)
            batch.add([LinkRequests.staticFDB(add: false, index: linkIndex, mac: mac)], for: position, operation, tolerated: [ENOENT, ENODEV])
        case let .setAlias(link, alias):
            batch.add([LinkRequests.set(name: link, alias: alias)], for: position, operation)
        case let .addAddress(link, address):
            let linkIndex = try index(of: link, &batch, completed)
            batch.add([LinkRequests.address(add: true, index: linkIndex, address: address)], for: position, operation)
        case let .removeAddress(link, address):
            let linkIndex = try index(of: link, &batch, completed)
            batch.add([LinkRequests.address(add: false, index: linkIndex, address: address)], for: position, operation,
                      tolerated: [EADDRNOTAVAIL, ENODEV])
        case let .addRoute(link, route):
            let linkIndex = try index(of: link, &batch, completed)
            batch.add([LinkRequests.route(add: true, index: linkIndex, route: route)], for: position, operation)
        case let .deleteRoute(link, route):
            let linkIndex = try index(of: link, &batch, completed)
            batch.add([LinkRequests.route(add: false, index: linkIndex, route: route)], for: position, operation,
                      tolerated: [ESRCH, ENODEV])
        case .deleteLink:
            try queueDeletes([position], [operation], &batch, completed)
        case .replaceNftTable, .deleteNftTable, .replaceGuestFilter, .deleteGuestFilter, .setSysctl, .setNameservers, .startUnit, .restartUnit, .stopUnit,
             .fetchImage, .createVMDisk, .deleteFromImageStore:
            throw DriverError("\(ActionText.describe(operation)) is not a link action")
        }
    }

    /// Forgets a name's old index: the next lookup finds the new link.
    func created(_ name: String) { indexes[name] = nil }

    /// Queues the creation of `name` at a reserved index, up, and its marking, in one send: the link is
    /// recognisably mooring's from its first moment. `configure` sets what is particular to its kind;
    /// `then` adds requests that need the new index.
    func createMarked(_ name: String, alias: String, mtu: Int?, _ position: Int, _ operation: Action,
                              _ batch: inout Batch, alloc: () -> OpaquePointer?,
                              then: (Int32) -> [NetlinkRequest] = { _ in [] },
                              configure: (OpaquePointer) -> Void) throws {
        created(name)
        let newIndex = reserveIndex(for: name)
        let create = try LinkRequests.create({ link in
            rtnl_link_set_name(link, name)
            rtnl_link_set_ifindex(link, newIndex)
            configure(link)
            if let mtu { rtnl_link_set_mtu(link, UInt32(mtu)) }
            rtnl_link_set_flags(link, UInt32(IFF_UP))
        }, alloc: alloc)
        batch.add([create, LinkRequests.set(index: newIndex, alias: alias)] + then(newIndex), for: position, operation)
    }

    /// An interface index for a link about to be created, from a range the kernel's own allocator (which
    /// counts up from 1) never reaches. The create requests it, and the request that marks the link as
    /// mooring's addresses the link by it: if the create fails (someone else took the name meanwhile), the
    /// mark finds no such link instead of marking theirs.
    func reserveIndex(for name: String) -> Int32 {
        var candidate = Int32(0x4000_0000 | Int32(truncatingIfNeeded: StableHash.fnv1a64(name) & 0x1fff_ffff))
        while indexesInUse.contains(candidate) { candidate = candidate == Int32.max ? 0x4000_0000 : candidate + 1 }
        indexesInUse.insert(candidate)
        indexes[name] = candidate
        return candidate
    }

    /// Moves the links into an unused interface group and deletes the group: the kernel then unregisters
    /// them together and waits for one grace period instead of one per link (1000 taps: 0.35 s, not 18 s).
    private func queueDeletes(_ positions: [Int], _ operations: [Action], _ batch: inout Batch,
                              _ completed: (Int) throws -> Void) throws {
        let names = positions.compactMap { position -> (Int, String)? in
            if case let .deleteLink(name) = operations[position] { return (position, name) }
            return nil
        }
        for (_, name) in names { indexes[name] = nil }
        if names.count == 1 {
            batch.add([LinkRequests.delete(name: names[0].1)], for: names[0].0, operations[names[0].0], tolerated: [ENODEV])
            return
        }
        var group: UInt32 = 0x6d6f_6f72  // "moor"
        while groupsInUse.contains(group) { group &+= 1 }
        groupsInUse.insert(group)
        for (position, name) in names {
            batch.add([LinkRequests.set(name: name, group: group)], for: position, operations[position], tolerated: [ENODEV])
        }
        batch.add([LinkRequests.deleteGroup(group)], for: names.last!.0, operations[names.last!.0], tolerated: [ENODEV])
    }
}

/// Requests waiting to be sent, each tied to the plan operation it serves.
struct Batch {
    enum Kind { case general, tapFinish }

    let socket: NetlinkSocket
    private var requests: [NetlinkRequest] = []
    private var owners: [(position: Int, operation: Action, tolerated: [Int32], kind: Kind)] = []

    init(socket: NetlinkSocket) { self.socket = socket }

    /// Requests queued that are not taps' finishing requests, counted as they are added: asked before every
    /// tap, a scan of the queue made a thousand taps quadratic.
    private var others = 0

    var hasRequestsBesidesTapFinishes: Bool { others > 0 }

    /// Adds requests that must travel together (a create and the alias that marks it).
    mutating func add(_ group: [NetlinkRequest], for position: Int, _ operation: Action, tolerated: [Int32] = [],
                      kind: Kind = .general) {
        for (offset, request) in group.enumerated() {
            var request = request
            request.continuesGroup = offset > 0
            requests.append(request)
            owners.append((position, operation, tolerated, kind))
            if kind != .tapFinish { others += 1 }
        }
    }

    mutating func flush(_ completed: (Int) throws -> Void) throws {
        guard !requests.isEmpty else { return }
        let sent = requests, sentOwners = owners
        requests.removeAll(keepingCapacity: true)
        owners.removeAll(keepingCapacity: true)
        others = 0
        let failures = try socket.transact(sent)
        var failed: [Int: (Action, NetlinkFailure)] = [:]
        // In request order: an action's first failing request is its cause (a create refused with EEXIST
        // makes the request that marks it fail with ENODEV after it).
        for (index, failure) in failures.sorted(by: { $0.key < $1.key }) {
            let owner = sentOwners[index]
            if owner.tolerated.contains(failure.errno) { continue }
            if failed[owner.position] == nil { failed[owner.position] = (owner.operation, failure) }
        }
        var reported = Set<Int>()
        for owner in sentOwners where failed[owner.position] == nil && reported.insert(owner.position).inserted {
            try completed(owner.position)
        }
        if let first = failed.min(by: { $0.key < $1.key }) {
            throw LinkOperationError(position: first.key, operation: first.value.0, failure: first.value.1.description)
        }
    }
}

/// A link operation the kernel refused, with the kernel's own words.
public struct LinkOperationError: Error, CustomStringConvertible, Sendable {
    public var position: Int
    public var operation: Action
    public var failure: String

    public var description: String { "\(ActionText.describe(operation)) failed: \(failure)" }
}
