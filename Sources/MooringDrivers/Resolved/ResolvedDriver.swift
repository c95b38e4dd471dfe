import CSystemd
import Foundation
import MooringModel

/// DNS per link through systemd-resolved's D-Bus API (org.freedesktop.resolve1): read with the Manager's
/// `DNS` and `Domains` properties (every link at once), set with the Manager's SetLinkDNS and SetLinkDomains, cleared with
/// RevertLink. mooring never edits /etc/resolv.conf: without resolved it says so and sets nothing. resolved
/// serves the host's own network namespace only, and forgets a link's settings when the link goes or resolved
/// restarts: the next plan sees that as drift and sets them again.
public final class ResolvedDriver {
    static let destination = "org.freedesktop.resolve1"
    static let path = "/org/freedesktop/resolve1"
    static let manager = "org.freedesktop.resolve1.Manager"

    private let bus: SystemdBus

    public init() throws {
        bus = try SystemdBus(user: false, destination: Self.destination)
    }

    /// Why resolved cannot be used here, in words for a plan; nil when it answers.
    public static func problem(_ error: Error) -> String {
        if let bus = error as? BusError, bus.name.hasSuffix("ServiceUnknown") || bus.name.hasSuffix("NameHasNoOwner") {
            return "systemd-resolved is not running (nothing owns org.freedesktop.resolve1 on the system bus)"
        }
        return "systemd-resolved cannot be asked: \(error)"
    }

    /// The DNS servers and search domains resolved has, by interface index (links without any are absent):
    /// two reads of the Manager's `DNS` (a(iiay)) and `Domains` (a(isb)), however many links there are.
    public func nameserversByLink() throws -> [Int: Nameservers] {
        var result: [Int: Nameservers] = [:]
        let servers = try property("DNS", "a(iiay)")
        if try servers.enter(BusType.array, "(iiay)") {
            while try servers.enter(BusType.structure, "iiay") {
                let index = Int(try servers.readInt32())
                let family = try servers.readInt32()
                let bytes = try servers.readByteArray()
                try servers.exit()
                guard index > 0 else { continue }  // 0: the global servers, not a link's
                if family == AF_INET, bytes.count == 4 { result[index, default: Nameservers()].addresses.append(IPAddress(family: .ipv4, bytes: bytes)) }
                if family == AF_INET6, bytes.count == 16 { result[index, default: Nameservers()].addresses.append(IPAddress(family: .ipv6, bytes: bytes)) }
            }
            try servers.exit()
        }
        let domains = try property("Domains", "a(isb)")
        if try domains.enter(BusType.array, "(isb)") {
            while try domains.enter(BusType.structure, "isb") {
                let index = Int(try domains.readInt32())
                let domain = try domains.readString()
                let routingOnly = try domains.readBool()
                try domains.exit()
                // A routing-only domain is not a search domain, so never one of mooring's: shown with resolved's `~`.
                if index > 0 { result[index, default: Nameservers()].search.append(routingOnly ? "~" + domain : domain) }
            }
            try domains.exit()
        }
        return result
    }

    /// org.freedesktop.DBus.Properties.Get of a Manager property, entered into its variant.
    private func property(_ name: String, _ signature: String) throws -> BusMessage {
        let message = try bus.methodCall("Get", path: Self.path, interface: "org.freedesktop.DBus.Properties")
        try message.append(Self.manager)
        try message.append(name)
        let reply = try bus.call(message)
        _ = try reply.enter(BusType.variant, signature)
        return reply
    }

    /// Sets the link's servers and search domains, or forgets them all (RevertLink) for an empty value.
    public func set(_ nameservers: Nameservers, onLinkIndex index: Int) throws {
        if nameservers.isEmpty {
            let message = try bus.methodCall("RevertLink", path: Self.path, interface: Self.manager)
            try message.append(Int32(index))
            _ = try bus.call(message)
            return
        }
        let dns = try bus.methodCall("SetLinkDNS", path: Self.path, interface: Self.manager)
        try dns.append(Int32(index))
        try dns.container(BusType.array, "(iay)") {
            for address in nameservers.addresses {
                try dns.container(BusType.structure, "iay") {
                    try dns.append(Int32(address.isIPv4 ? AF_INET : AF_INET6))
                    try dns.append(byteArray: address.bytes)
                }
            }
        }
        _ = try bus.call(dns)
        let domains = try bus.methodCall("SetLinkDomains", path: Self.path, interface: Self.manager)
        try domains.append(Int32(index))
        try domains.container(BusType.array, "(sb)") {
            for domain in nameservers.search {
                try domains.container(BusType.structure, "sb") {
                    try domains.append(domain)
                    try domains.append(false)
                }
            }
        }
        _ = try bus.call(domains)
    }
}
