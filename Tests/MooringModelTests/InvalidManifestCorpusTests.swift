import Foundation
import Testing
@testable import MooringModel

/// Each file under Fixtures/invalid is one broken manifest set. Its trailing `# expect:` comments list
/// exactly the errors validation must report, as `line:column: message` relative to the file.
struct InvalidManifestCorpusTests {
    static let cases: [String] = {
        let directory = TestPaths.fixtures.appendingPathComponent("invalid")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    @Test func corpusIsLargeEnough() {
        #expect(Self.cases.count >= 40)
    }

    @Test("invalid manifest reports exactly its expected errors", arguments: cases)
    func reportsExpectedErrors(_ name: String) throws {
        let path = TestPaths.fixtures.appendingPathComponent("invalid/\(name)").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expected = text.split(separator: "\n")
            .filter { $0.hasPrefix("# expect: ") }
            .map { String($0.dropFirst("# expect: ".count)).replacingOccurrences(of: "FIXTURE", with: path) }
        #expect(!expected.isEmpty, "fixture \(name) has no # expect: lines")

        let result = ManifestSet.load(directory: path)
        let actual = result.errors.map { diagnostic -> String in
            let text = diagnostic.description
            return text.hasPrefix(path + ":") ? String(text.dropFirst(path.count + 1)) : text
        }
        #expect(result.desired == nil, "a set with errors must not produce a DesiredState")
        #expect(actual == expected)
    }
}
