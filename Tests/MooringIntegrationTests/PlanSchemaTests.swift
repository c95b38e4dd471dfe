import Foundation
import Testing

/// The JSON mooring prints is the documented one: real plans (creates, updates, a NAT table, a conflict with
/// held changes, a stale link) validate against docs/schemas/plan.schema.json with a JSON Schema validator.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct PlanSchemaTests {
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/schemas/plan.schema.json").path

    private func validate(_ json: String) throws -> Shell.Output {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(json.load(sys.stdin)), key=str)
            for error in errors[:5]: print(list(error.absolute_path), error.message)
            sys.exit(1 if errors else 0)
            """
        return try Shell.run(["python3", "-c", script, Self.schema], input: json)
    }

    @Test func realPlansValidateAgainstTheSchema() throws {
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
        let fresh = try harness.cli("plan", ["--output", "json"])
        #expect(fresh.status == 2)
        let created = try validate(fresh.stdout)
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        #expect(try harness.cli("apply").status == 0)

        // Drift, a stale link, and a conflict that holds a VM back.
        try harness.ns.ip("link", "set", "psbr", "mtu", "1300")
        try harness.manifests.remove("a.yaml")
        // VM b cannot start (no such kernel, or no manager to ask): its tap is held back.
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "psbr", vmm: "qemu-microvm")
            .replacingOccurrences(of: "  vmm: qemu-microvm\n", with: "  vmm: qemu-microvm\n  vcpu: 1\n  memoryMb: 128\n  kernel: /nonexistent/vmlinux\n"))
        let drifted = try harness.cli("plan", ["--output", "json"])
        let document = try PlanDocument(drifted.stdout)
        #expect(!document.conflicts.isEmpty && document.json["held"]?.array?.isEmpty == false, "\(drifted.stdout)")
        #expect(document.changes.contains { $0.resource == "link/vm-a-eth0" })
        let checked = try validate(drifted.stdout)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
    }
}
