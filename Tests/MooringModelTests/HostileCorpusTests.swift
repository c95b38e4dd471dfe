import Foundation
import Testing
@testable import MooringModel

/// A generated corpus of broken and hostile manifests: every one must give a result — errors with positions,
/// or (rarely, when a mutation happens to stay valid) a DesiredState — never a crash or a hang.
/// `MOORING_RELIABILITY_SCALE` multiplies its size; `MOORING_RELIABILITY_SEED` replays it.
struct HostileCorpusTests {
    static let scale = max(1, Int(ProcessInfo.processInfo.environment["MOORING_RELIABILITY_SCALE"] ?? "") ?? 1)
    static let seed = UInt64(ProcessInfo.processInfo.environment["MOORING_RELIABILITY_SEED"] ?? "") ?? 20261124

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
    }

    /// Valid documents to mutate: the examples and a document of every kind with every field.
    static let seeds: [String] = {
        var texts = ((try? FileManager.default.contentsOfDirectory(atPath: TestPaths.examples.path)) ?? []).sorted()
            .compactMap { try? String(contentsOf: TestPaths.examples.appendingPathComponent($0), encoding: .utf8) }
        texts.append("""
            apiVersion: mooring.dev/v1alpha1
            kind: Bridge
            metadata: {name: br0, labels: {a: b}}
            spec:
              addresses: [10.0.0.1/24, "fd00::1/64"]
              mtu: 9000
              ports: [eth1]
              vxlan: {vni: 42, local: 192.0.2.1, remote: 192.0.2.2, dstPort: 4789, device: eth0}
            ---
            apiVersion: mooring.dev/v1alpha1
            kind: MicroVM
            metadata: {name: vm-1}
            spec:
              vcpu: 2
              memoryMb: 512
              kernel: {image: x, filename: /k}
              initrd: /i
              rootVolume: {id: root, path: /d, readOnly: true}
              kernelCmdline: {console: ttyS0}
              networkInterfaces:
                - {guestDeviceName: eth0, type: tap, bridge: br0, address: 10.0.0.9/24, guestMac: "02:00:00:00:00:09"}
                - {guestDeviceName: eth1, type: macvtap, parentInterface: eth0, macvtapMode: vepa, hostDeviceName: mv1}
            """)
        return texts
    }()

    enum Mutation: CaseIterable {
        case truncate, flipCharacter, controlCharacterInName, unicodeName, hugeNumber, typeSwap, duplicateKey,
             aliasBomb, deepNesting, hugeString, tokenSoup, tag
    }

    /// Classes that can never produce a valid manifest set.
    static let alwaysInvalid: Set<Mutation> = [.controlCharacterInName, .unicodeName, .hugeNumber, .aliasBomb, .deepNesting, .hugeString]

    static func mutate(_ text: String, _ mutation: Mutation, _ random: inout Generator) -> String {
        var characters = Array(text)
        func position() -> Int { Int.random(in: 0..<max(1, characters.count), using: &random) }
        switch mutation {
        case .truncate:
            return String(characters.prefix(position()))
        case .flipCharacter:
            let pool: [Character] = [":", "-", "[", "]", "{", "}", "\"", "'", "#", "&", "*", "!", "|", ">", "\t", "\n", " ", "%", "@", "`", "\u{0}", "\u{7f}", "é"]
            characters[position()] = pool.randomElement(using: &random)!
            return String(characters)
        case .controlCharacterInName:
            return text.replacingOccurrences(of: "name: ", with: "name: \"x\\u0001\\u001b[31m", options: [], range: nil)
                .replacingOccurrences(of: "name: \"x\\u0001\\u001b[31m{", with: "name: {")
                .replacingOccurrences(of: "{name: ", with: "{name: \"x\\u0007\"")
                .replacingOccurrences(of: "\n  name: ", with: "\n  name: \"\\u0000bad\"\n  x: ")
        case .unicodeName:
            return text.replacingOccurrences(of: "\n  name: ", with: "\n  name: \"wéb-\\u202E1\"\n  ignored: ")
                .replacingOccurrences(of: "{name: ", with: "{name: \"😀\", x: ")
        case .hugeNumber:
            return text.replacingOccurrences(of: "vcpu: ", with: "vcpu: 9999999999999999999999999")
                .replacingOccurrences(of: "memoryMb: ", with: "memoryMb: -")
                .replacingOccurrences(of: "mtu: ", with: "mtu: 1e400")
                .replacingOccurrences(of: "vni: ", with: "vni: 0x")
                + (text.contains("vcpu") || text.contains("mtu") || text.contains("vni") ? "" : "\n---\napiVersion: mooring.dev/v1alpha1\nkind: Bridge\nmetadata: {name: h}\nspec: {mtu: 99999999999999999999999999999}\n")
        case .typeSwap:
            let swaps = ["[a, b]", "{x: 1}", "~", "true", "\"\"", "0", "- item"]
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let candidates = lines.indices.filter { lines[$0].contains(": ") }
            if let index = candidates.randomElement(using: &random) {
                let parts = lines[index].split(separator: ":", maxSplits: 1)
                lines[index] = parts[0] + ": " + swaps.randomElement(using: &random)!
            }
            return lines.joined(separator: "\n")
        case .duplicateKey:
            return text.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n  mtu: 1500\n  mtu: 1500\n")
        case .aliasBomb:
            var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            for level in 1...(8 + Int.random(in: 0...4, using: &random)) {
                bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
            }
            return "apiVersion: mooring.dev/v1alpha1\nkind: Bridge\nmetadata: {name: bomb}\n" + bomb + "spec: {ports: *a8}\n"
        case .deepNesting:
            let depth = Int.random(in: 200...20_000, using: &random)
            return "apiVersion: mooring.dev/v1alpha1\nkind: Bridge\nmetadata: {name: deep}\nspec: {ports: "
                + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}\n"
        case .hugeString:
            return "apiVersion: mooring.dev/v1alpha1\nkind: Bridge\nmetadata: {name: \"" + String(repeating: "b", count: 200_000) + "\"}\nspec: {}\n"
        case .tokenSoup:
            let tokens = ["---", "...", "%YAML 1.1", "? ", ": ", "- ", "&x ", "*x", "!!binary ", "<<: *x", "\"\\", "'", "{", "[", "|-", ">+", "#"]
            var result = text
            for _ in 0..<Int.random(in: 1...5, using: &random) {
                let index = result.index(result.startIndex, offsetBy: Int.random(in: 0...result.count, using: &random))
                result.insert(contentsOf: tokens.randomElement(using: &random)!, at: index)
            }
            return result
        case .tag:
            return text.replacingOccurrences(of: "kind: ", with: "kind: !!python/object:os.system ")
        }
    }

    @Test func generatedCorpusNeverCrashesOrHangs() {
        var random = Generator(state: Self.seed | 1)
        var total = 0, rejected = 0, slowest = 0.0
        var perClass: [String: Int] = [:]
        for round in 0..<(45 * Self.scale) {
            for seed in Self.seeds {
                for mutation in Mutation.allCases {
                    let text = Self.mutate(seed, mutation, &random)
                    let started = Date()
                    let result = ManifestSet.parse(files: [ManifestFile(path: "case-\(round).yaml", text: text)])
                    slowest = max(slowest, Date().timeIntervalSince(started))
                    total += 1
                    perClass["\(mutation)", default: 0] += 1
                    if result.desired == nil {
                        rejected += 1
                        #expect(!result.errors.isEmpty, "rejected without an error: \(mutation)")
                        #expect(result.errors.allSatisfy { $0.location?.file == "case-\(round).yaml" && ($0.location?.line ?? 0) >= 1 },
                                "every error has a position: \(result.errors.prefix(2))")
                    } else {
                        #expect(result.errors.isEmpty)
                        #expect(!Self.alwaysInvalid.contains(mutation), "\(mutation) was accepted: \(text.prefix(200))")
                    }
                }
            }
        }
        print("hostile corpus: \(total) generated manifests, \(rejected) rejected with positioned errors, slowest \(Int(slowest * 1000)) ms")
        #expect(total >= 2000)
        // Not a timing target: a generous bound that only a hang or a blow-up would cross.
        #expect(slowest < 10, "one case took \(slowest) s")
    }
}
