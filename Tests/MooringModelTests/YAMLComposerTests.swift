import Testing
@testable import MooringModel

/// The composer mooring reads manifests with: positions, quoting, anchors and libyaml's own errors.
struct YAMLComposerTests {
    private func roots(_ text: String) throws(YAMLSyntaxError) -> [Node] {
        let composer = try YAMLComposer(text: text)
        var roots: [Node] = []
        while let root = try composer.nextRoot() { roots.append(root) }
        return roots
    }

    @Test func keepsPositionsStylesAndDocumentOrder() throws {
        let documents = try roots("a: 1\nb: 'two'\n---\n- x\n- \"y\"\n- |\n  z\n")
        #expect(documents.count == 2)
        guard case .mapping(let pairs, let mark) = documents[0], case .sequence(let items, _) = documents[1] else {
            Issue.record("want a mapping and a list, got \(documents)")
            return
        }
        #expect(mark == Mark(line: 1, column: 1))
        guard case .scalar(let two) = pairs[1].value, case .scalar(let y) = items[1], case .scalar(let z) = items[2] else {
            Issue.record("want scalars")
            return
        }
        #expect(two.string == "two" && two.style == .singleQuoted && two.mark == Mark(line: 2, column: 4))
        #expect(y.style == .doubleQuoted && z.style == .literal && z.string == "z\n")
        #expect(items[0].mark == Mark(line: 4, column: 3))
    }

    @Test func aliasesShareTheirAnchorsNode() throws {
        let documents = try roots("base: &b {mtu: 1500}\n---\nother: *b\n")
        guard case .mapping(let pairs, _) = documents[1], case .mapping(let inner, _) = pairs[0].value else {
            Issue.record("want the anchored mapping, got \(documents)")
            return
        }
        #expect(inner.count == 1)
    }

    @Test func reportsErrorsInLibyamlsWords() {
        do {
            _ = try roots("a: *nowhere\n")
            Issue.record("an undefined alias was accepted")
        } catch {
            guard case .located(let problem, let mark, _) = error else { Issue.record("\(error)"); return }
            #expect(problem == "found undefined alias")
            #expect(mark == Mark(line: 1, column: 4))
        }
        do {
            _ = try roots("{b: 1, a: 2, b: 3, a: 4}\n")
            Issue.record("a repeated key was accepted")
        } catch {
            guard case .duplicateKey(let key, let first) = error else { Issue.record("\(error)"); return }
            #expect(key == "a" && first == Mark(line: 1, column: 8))
        }
        do {
            _ = try roots("a: ok\nb: bad\u{7}\n")
            Issue.record("a control character was accepted")
        } catch {
            guard case .reader(let problem, let offset) = error else { Issue.record("\(error)"); return }
            #expect(problem.contains("control characters"))
            #expect(offset == 12)
        }
    }

    @Test func syntaxErrorsBecomeDiagnosticsWithFileLineAndColumn() {
        let result = ManifestSet.parse(files: [ManifestFile(path: "m.yaml", text: "kind: Bridge\nmetadata: {name: br0\n")])
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.description.hasPrefix("m.yaml:3:1: error: YAML syntax error:") == true, "\(result.errors)")
    }
}
