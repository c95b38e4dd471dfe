import Foundation
import Testing
@testable import MooringModel

/// What the compiler cannot check when a link kind is added (docs/architecture.md, "Adding things"): the places
/// outside Swift that list the kinds. Each test names the file to change.
@Suite struct LinkKindTests {
    @Test func everyKindIsNamedByItsOwnType() {
        for name in LinkConfig.Name.allCases {
            #expect(name.type.kindName == name, "LinkConfig.Name.\(name).type is \(name.type), whose kindName is \(name.type.kindName)")
        }
    }

    /// docs/schemas/output.schema.json: `createLink`'s kind enum and one settings block per kind.
    @Test func theOutputSchemaListsEveryKind() throws {
        let data = try Data(contentsOf: TestPaths.repository.appendingPathComponent("docs/schemas/output.schema.json"))
        let schema = try JSONSerialization.jsonObject(with: data)
        var enums: [[String]] = []
        var constants: Set<String> = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let kind = object["kind"] as? [String: Any] {
                    if let values = kind["enum"] as? [String] { enums.append(values) }
                    if let constant = kind["const"] as? String { constants.insert(constant) }
                }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(schema)
        let kinds = LinkConfig.Name.allCases.map(\.rawValue)
        let linkKinds = try #require(enums.first { $0.contains("bridge") && $0.contains("tap") },
                                     "docs/schemas/output.schema.json has no enum of link kinds")
        #expect(Set(linkKinds) == Set(kinds), "docs/schemas/output.schema.json lists the link kinds \(linkKinds), mooring makes \(kinds)")
        for kind in kinds where kind != "bridge" {
            #expect(constants.contains(kind), "docs/schemas/output.schema.json has no settings block (\"const\": \"\(kind)\") for \(kind)")
        }
    }

    /// docs/manifests.md: each field a Bridge declares a port in has a row in the Bridge table.
    @Test func theManifestReferenceDocumentsEveryBridgePortField() throws {
        let text = try String(contentsOf: TestPaths.repository.appendingPathComponent("docs/manifests.md"), encoding: .utf8)
        for kind in LinkConfig.Name.allCases.compactMap(\.bridgePort) {
            let documented = text.contains("| `spec.\(kind.manifestField)` |")
            #expect(documented, "docs/manifests.md's Bridge table has no row for spec.\(kind.manifestField)")
        }
    }
}
