import CSystemd
import Foundation

/// Type characters for sd-bus (the SD_BUS_TYPE_* macros import as Int).
enum BusType {
    static let string = CChar(UInt8(ascii: "s"))
    static let objectPath = CChar(UInt8(ascii: "o"))
    static let boolean = CChar(UInt8(ascii: "b"))
    static let uint32 = CChar(UInt8(ascii: "u"))
    static let int32 = CChar(UInt8(ascii: "i"))
    static let uint64 = CChar(UInt8(ascii: "t"))
    static let array = CChar(UInt8(ascii: "a"))
    static let variant = CChar(UInt8(ascii: "v"))
    static let structure = CChar(UInt8(ascii: "r"))
}

/// An sd-bus message built and read with the non-variadic API (the variadic one does not import into Swift).
final class BusMessage {
    let message: OpaquePointer

    init(adopting message: OpaquePointer) { self.message = message }
    deinit { sd_bus_message_unref(message) }

    private func check(_ rc: Int32, _ what: String) throws {
        if rc < 0 { throw DriverError("sd-bus: \(what): \(String(cString: strerror(-rc)))") }
    }

    func append(_ text: String, type: CChar = BusType.string) throws {
        try check(text.withCString { sd_bus_message_append_basic(message, type, $0) }, "append \(text)")
    }

    func append(_ value: Bool) throws {
        var raw: Int32 = value ? 1 : 0
        try check(sd_bus_message_append_basic(message, BusType.boolean, &raw), "append bool")
    }

    func append(_ value: UInt32) throws {
        var raw = value
        try check(sd_bus_message_append_basic(message, BusType.uint32, &raw), "append uint32")
    }

    func append(_ value: UInt64) throws {
        var raw = value
        try check(sd_bus_message_append_basic(message, BusType.uint64, &raw), "append uint64")
    }

    func append(strings: [String]) throws {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        try check(pointers.withUnsafeMutableBufferPointer { sd_bus_message_append_strv(message, $0.baseAddress) }, "append strv")
    }

    /// An `ay`: the bytes of `text`, no terminator.
    func append(bytes text: String) throws {
        let bytes = Array(text.utf8)
        try check(bytes.withUnsafeBytes { sd_bus_message_append_array(message, CChar(UInt8(ascii: "y")), $0.baseAddress, $0.count) },
                  "append bytes")
    }

    func container(_ type: CChar, _ contents: String, _ body: () throws -> Void) throws {
        try check(sd_bus_message_open_container(message, type, contents), "open \(contents)")
        try body()
        try check(sd_bus_message_close_container(message), "close \(contents)")
    }

    /// One `(sv)` entry of a property array.
    func property(_ name: String, _ signature: String, _ body: () throws -> Void) throws {
        try container(BusType.structure, "sv") {
            try append(name)
            try container(BusType.variant, signature, body)
        }
    }

    func readString(_ type: CChar = BusType.string) throws -> String {
        var pointer: UnsafePointer<CChar>?
        try check(sd_bus_message_read_basic(message, type, &pointer), "read string")
        return pointer.map { String(cString: $0) } ?? ""
    }

    func readUInt32() throws -> UInt32 {
        var value: UInt32 = 0
        try check(sd_bus_message_read_basic(message, BusType.uint32, &value), "read uint32")
        return value
    }

    func append(_ value: Int32) throws {
        var raw = value
        try check(sd_bus_message_append_basic(message, BusType.int32, &raw), "append int32")
    }

    /// An `ay` of raw bytes.
    func append(byteArray bytes: [UInt8]) throws {
        try check(bytes.withUnsafeBytes { sd_bus_message_append_array(message, CChar(UInt8(ascii: "y")), $0.baseAddress, $0.count) },
                  "append bytes")
    }

    func readInt32() throws -> Int32 {
        var value: Int32 = 0
        try check(sd_bus_message_read_basic(message, BusType.int32, &value), "read int32")
        return value
    }

    func readBool() throws -> Bool {
        var value: Int32 = 0
        try check(sd_bus_message_read_basic(message, BusType.boolean, &value), "read bool")
        return value != 0
    }

    /// An `ay`.
    func readByteArray() throws -> [UInt8] {
        var pointer: UnsafeRawPointer?
        var size = 0
        try check(sd_bus_message_read_array(message, CChar(UInt8(ascii: "y")), &pointer, &size), "read bytes")
        guard let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: size))
    }

    /// Enters a container; false at the end of an array.
    func enter(_ type: CChar, _ contents: String) throws -> Bool {
        let rc = sd_bus_message_enter_container(message, type, contents)
        try check(rc, "enter \(contents)")
        return rc > 0
    }

    func exit() throws { try check(sd_bus_message_exit_container(message), "exit container") }
}

/// A D-Bus error reply, with its name (`org.freedesktop.systemd1.NoSuchUnit`) and message.
public struct BusError: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var message: String
    public var description: String { "\(message) (\(name))" }
}
