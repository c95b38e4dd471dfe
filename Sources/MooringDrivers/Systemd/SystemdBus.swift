import CSystemd
import Foundation

/// A connection to a systemd service over D-Bus (the manager unless told otherwise): the system bus, or the
/// caller's user bus (`--user`). Not thread-safe: one owner at a time.
final class SystemdBus {
    let bus: OpaquePointer
    /// The service called: the manager, or e.g. systemd-resolved.
    let destination: String
    static let managerDestination = "org.freedesktop.systemd1"
    static let managerPath = "/org/freedesktop/systemd1"
    static let managerInterface = "org.freedesktop.systemd1.Manager"

    init(user: Bool, destination: String = managerDestination) throws {
        self.destination = destination
        var bus: OpaquePointer?
        let rc = user ? sd_bus_open_user_with_description(&bus, "mooring") : sd_bus_open_system_with_description(&bus, "mooring")
        guard rc >= 0, let bus else {
            let which = user ? "the user bus ($XDG_RUNTIME_DIR/bus)" : "the system bus"
            throw NoBus(message: "cannot connect to \(which): \(String(cString: strerror(-rc))); is systemd running? "
                        + (user ? "Is XDG_RUNTIME_DIR set?" : "Use --user for a user manager."),
                        managerAbsent: -rc == ENOENT || -rc == ECONNREFUSED)
        }
        self.bus = bus
    }

    deinit { sd_bus_flush_close_unref(bus) }

    func methodCall(_ member: String, path: String = managerPath, interface: String = managerInterface) throws -> BusMessage {
        var message: OpaquePointer?
        let rc = sd_bus_message_new_method_call(bus, &message, destination, path, interface, member)
        guard rc >= 0, let message else { throw DriverError("sd-bus: cannot create \(member) call: \(String(cString: strerror(-rc)))") }
        return BusMessage(adopting: message)
    }

    func call(_ message: BusMessage, timeoutMicroseconds: UInt64 = 25_000_000) throws -> BusMessage {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        let rc = sd_bus_call(bus, message.message, timeoutMicroseconds, &error, &reply)
        guard rc >= 0, let reply else {
            let name = error.name.map { String(cString: $0) } ?? "errno"
            let text = error.message.map { String(cString: $0) } ?? String(cString: strerror(-rc))
            throw BusError(name: name, message: text)
        }
        return BusMessage(adopting: reply)
    }

    /// Calls a manager method whose arguments are all strings.
    @discardableResult
    func callManager(_ member: String, _ arguments: [String]) throws -> BusMessage {
        let message = try methodCall(member)
        for argument in arguments { try message.append(argument) }
        return try call(message)
    }

    func stringProperty(_ path: String, _ interface: String, _ name: String) throws -> String {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var value: UnsafeMutablePointer<CChar>?
        let rc = sd_bus_get_property_string(bus, destination, path, interface, name, &error, &value)
        guard rc >= 0, let value else { throw Self.error(error, rc) }
        defer { free(value) }
        return String(cString: value)
    }

    func uint32Property(_ path: String, _ interface: String, _ name: String) throws -> UInt32 {
        try trivialProperty(path, interface, name, BusType.uint32, UInt32(0))
    }

    func int32Property(_ path: String, _ interface: String, _ name: String) throws -> Int32 {
        try trivialProperty(path, interface, name, BusType.int32, Int32(0))
    }

    func uint64Property(_ path: String, _ interface: String, _ name: String) throws -> UInt64 {
        try trivialProperty(path, interface, name, BusType.uint64, UInt64(0))
    }

    /// A fixed-size property (`u`, `i`, `t`) read into a value of the matching Swift type.
    private func trivialProperty<Value>(_ path: String, _ interface: String, _ name: String, _ type: CChar, _ initial: Value) throws -> Value {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var value = initial
        let rc = sd_bus_get_property_trivial(bus, destination, path, interface, name, &error, type, &value)
        guard rc >= 0 else { throw Self.error(error, rc) }
        return value
    }

    func stringsProperty(_ path: String, _ interface: String, _ name: String) throws -> [String] {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var value: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let rc = sd_bus_get_property_strv(bus, destination, path, interface, name, &error, &value)
        guard rc >= 0, let value else { throw Self.error(error, rc) }
        defer {
            var cursor = value
            while let string = cursor.pointee { free(string); cursor += 1 }
            free(value)
        }
        var out: [String] = []
        var cursor = value
        while let string = cursor.pointee { out.append(String(cString: string)); cursor += 1 }
        return out
    }

    private static func error(_ error: sd_bus_error, _ rc: Int32) -> BusError {
        BusError(name: error.name.map { String(cString: $0) } ?? "errno",
                 message: error.message.map { String(cString: $0) } ?? String(cString: strerror(-rc)))
    }

    /// Dispatches queued messages (signal callbacks run here), then waits up to `microseconds` for more.
    func pump(waitMicroseconds: UInt64) {
        while sd_bus_process(bus, nil) > 0 {}
        _ = sd_bus_wait(bus, waitMicroseconds)
        while sd_bus_process(bus, nil) > 0 {}
    }
}

/// The bus could not be reached. `managerAbsent`: there is no socket (or nobody listens), so no manager runs.
struct NoBus: Error, CustomStringConvertible {
    var message: String
    var managerAbsent: Bool
    var description: String { message }
}
