import CNetlink
import Foundation

/// Reading netlink attributes with libnl's parser: the message parsers and each link kind's reader share these.
enum Attribute {
    typealias Table = [UnsafeMutablePointer<nlattr>?]

    /// The nested attributes of `attribute`, by type up to `max`.
    static func nested(_ attribute: UnsafeMutablePointer<nlattr>?, max: Int) -> Table? {
        guard let attribute else { return nil }
        var table = Table(repeating: nil, count: max + 1)
        guard nla_parse_nested(&table, Int32(max), attribute, nil) >= 0 else { return nil }
        return table
    }

    static func string(_ attribute: UnsafeMutablePointer<nlattr>?) -> String? {
        guard let attribute, nla_len(attribute) > 0 else { return nil }
        let data = nla_data(attribute)!.assumingMemoryBound(to: UInt8.self)
        let bytes = UnsafeBufferPointer(start: data, count: Int(nla_len(attribute))).prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func bytes(_ attribute: UnsafeMutablePointer<nlattr>?) -> [UInt8]? {
        guard let attribute else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: nla_data(attribute), count: Int(nla_len(attribute))))
    }

    static func u32(_ attribute: UnsafeMutablePointer<nlattr>?) -> UInt32? { attribute.map { nla_get_u32($0) } }
    static func u16(_ attribute: UnsafeMutablePointer<nlattr>?) -> UInt16? { attribute.map { nla_get_u16($0) } }
    static func u8(_ attribute: UnsafeMutablePointer<nlattr>?) -> UInt8? { attribute.map { nla_get_u8($0) } }
}

/// A link's IFLA_INFO_DATA, copied out of its message: a kind's settings are read once the whole dump is in,
/// when the links it refers to by index have names.
final class LinkKindData: @unchecked Sendable {
    private let buffer: UnsafeMutableRawPointer
    private let length: Int32

    init?(_ attribute: UnsafeMutablePointer<nlattr>?) {
        guard let attribute else { return nil }
        length = nla_len(attribute)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: max(Int(length), 1), alignment: 8)
        buffer.copyMemory(from: nla_data(attribute), byteCount: Int(length))
    }

    deinit { buffer.deallocate() }

    /// Its attributes by type up to `max`; nil when they do not parse. Valid while this value lives.
    func table(max: Int32) -> Attribute.Table? {
        var table = Attribute.Table(repeating: nil, count: Int(max) + 1)
        let head = buffer.assumingMemoryBound(to: nlattr.self)
        guard nla_parse(&table, max, head, length, nil) >= 0 else { return nil }
        return table
    }
}
