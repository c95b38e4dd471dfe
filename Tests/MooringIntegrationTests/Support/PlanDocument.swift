import Foundation
import MooringModel

/// A plan report as `plan --output json` prints it, read back for assertions (the CLI's JSON, not Swift types).
struct PlanDocument {
    struct Change {
        /// `link/vm-a-eth0`.
        var resource: String
        var action: String
        var summary: String
    }

    let json: JSONValue

    init(_ text: String) throws {
        guard let json = JSONValue.parse(text) else { throw DocumentError(text: String(text.prefix(200))) }
        self.json = json
    }

    var changes: [Change] {
        (json["changes"]?.array ?? []).map {
            Change(resource: "\($0["resource"]?["kind"]?.string ?? "?")/\($0["resource"]?["name"]?.string ?? "?")",
                   action: $0["action"]?.string ?? "?", summary: $0["summary"]?.string ?? "")
        }
    }
    var conflicts: [JSONValue] { json["conflicts"]?.array ?? [] }
    var warnings: [String] { (json["warnings"]?.array ?? []).compactMap(\.string) }
    var inSync: Bool { json["inSync"]?.bool == true }
    var context: JSONValue? { json["context"] }

    struct DocumentError: Error { var text: String }
}
