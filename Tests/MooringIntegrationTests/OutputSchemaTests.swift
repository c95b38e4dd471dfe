import Foundation
import MooringModel
import Testing

/// The JSON mooring prints is the documented one: real output of `plan` (creates, updates, a NAT table, a
/// conflict with held changes, a stale link), `apply`, `status`, `doctor` and `validate`, and the documents
/// they print when they fail (invalid manifests), validate against docs/schemas/output.schema.json with a JSON
/// Schema validator, and share one envelope.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct OutputSchemaTests {
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/schemas/output.schema.json").path

    /// Validates one document; returns the validator's complaints (empty when valid).
    private func complaints(_ json: String) throws -> String {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(json.load(sys.stdin)), key=str)
            for error in errors[:5]: print(list(error.absolute_path), error.message)
            sys.exit(1 if errors else 0)
            """
        let run = try Shell.run(["python3", "-c", script, Self.schema], input: json)
        return run.status == 0 ? "" : run.stdout + run.stderr
    }

    /// Runs a command with `--output json`: its one document on stdout, valid, for that command.
    @discardableResult
    private func document(_ harness: Harness, _ command: String, _ extra: [String] = [], exit: Int32) throws -> JSONValue {
        let run = try harness.cli(command, ["-o", "json"] + extra)
        #expect(run.status == exit, "\(command): \(run.stdout)\(run.stderr)")
        let found = try complaints(run.stdout)
        #expect(found == "", "\(command): \(found) in \(run.stdout)")
        let json = try #require(JSONValue.parse(run.stdout), "\(command) printed no JSON: \(run.stdout)")
        #expect(json["command"]?.string == command && json["formatVersion"]?.int == 3)
        return json
    }

    @Test func everyCommandsOutputValidatesAgainstTheSchema() throws {
        let harness = try Harness("ps")
        defer { harness.tearDown() }
        try harness.ns.addHostInterface("ext0")
        try harness.manifests.write("br.yaml", Manifests.bridge("psbr", addresses: ["10.60.0.1/24"], mtu: 1400,
                                                                extra: "  routes: [{to: 10.61.0.0/16, via: 10.60.0.2, metric: 10}]\n"))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "psbr"))
        try harness.manifests.write("nat.yaml", Manifests.header + """
            kind: NAT
            metadata: {name: edge}
            spec: {externalInterface: ext0, internalInterfaces: [psbr], forwardPorts: [{proto: tcp, sourcePort: 8080, destination: "10.60.0.10:80"}]}
            """)
        let fresh = try document(harness, "plan", exit: 2)
        #expect(fresh["error"] == .null && fresh["changes"]?.array?.isEmpty == false)
        let applied = try document(harness, "apply", exit: 0)
        #expect(applied["converged"] == .bool(true) && applied["trial"] == .null)
        #expect(try document(harness, "status", exit: 0)["inSync"] == .bool(true))
        #expect(try document(harness, "doctor", exit: 0)["findings"]?.array?.isEmpty == false)

        // Drift, a stale link, and a conflict that holds a VM back.
        try harness.ns.ip("link", "set", "psbr", "mtu", "1300")
        try harness.manifests.remove("a.yaml")
        // VM b cannot start (no such kernel, or no manager to ask): its tap is held back.
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "psbr", vmm: "qemu-microvm")
            .replacingOccurrences(of: "  vmm: qemu-microvm\n", with: "  vmm: qemu-microvm\n  vcpu: 1\n  memoryMb: 128\n  kernel: /nonexistent/vmlinux\n"))
        let drifted = try document(harness, "plan", exit: 1)
        #expect(drifted["conflicts"]?.array?.isEmpty == false && drifted["held"]?.array?.isEmpty == false, "\(drifted)")
        #expect(drifted["changes"]?.array?.contains { $0["resource"]?["name"]?.string == "vm-a-eth0" } == true)
        #expect(try document(harness, "status", exit: 2)["inSync"] == .bool(false))

        // Invalid manifests: still one document on stdout, saying why, with every finding and the command's
        // own fields null.
        try harness.manifests.write("bad.yaml", Manifests.header + "kind: Bridge\nmetadata: {name: bad0}\nspec:\n  adresses: [10.62.0.1/24]\n")
        for command in ["plan", "apply", "status"] {
            let failed = try document(harness, command, exit: 1)
            #expect(failed["error"]?.string == "1 error(s) in the manifests; nothing was changed", "\(failed)")
            let finding = try #require(failed["diagnostics"]?.array?.first)
            #expect(finding["line"]?.int == 5 && finding["column"]?.int == 3 && finding["path"]?.string == "spec.adresses", "\(finding)")
            #expect(failed[command == "status" ? "rows" : command == "apply" ? "plan" : "changes"] == .null)
        }
        let invalid = try TestEnvironment.mooring(["validate", "-f", harness.manifests.path, "-o", "json"])
        let invalidComplaints = try complaints(invalid.stdout)
        #expect(invalid.status == 1 && invalidComplaints == "", "\(invalid.stdout)\(invalidComplaints)")
        #expect(JSONValue.parse(invalid.stdout)?["valid"] == .bool(false))
        try harness.manifests.remove("bad.yaml")
        let valid = try TestEnvironment.mooring(["validate", "-f", harness.manifests.path, "-o", "json"])
        let validComplaints = try complaints(valid.stdout)
        #expect(valid.status == 0 && validComplaints == "", "\(valid.stdout)\(valid.stderr)\(validComplaints)")
        #expect(JSONValue.parse(valid.stdout)?["kinds"]?["MicroVM"]?.int == 1, "\(valid.stdout)")
    }
}
