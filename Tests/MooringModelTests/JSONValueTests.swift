import Foundation
import Testing
@testable import MooringModel

/// The listing reader and the canonical writer must agree: the planner compares mooring's own table (written
/// by `CanonicalJSON.text`) with libnftables' listing (read by `JSONValue`), and any spelling difference
/// would show a converged host as drifted.
struct JSONValueTests {
    /// Each listing text with the value mooring builds for it (Swift values, as `NftTableBuilder` writes them).
    static var listings: [(text: String, built: Any)] { [
        (#"{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}, {"map": {"name": "fwd4", "type": ["ifname", "inet_proto", "inet_service"], "elem": [[{"concat": ["ext0", "tcp", 10000]}, "10.100.0.2"], [{"concat": ["ext0", 6, {"range": [8000, 8010]}]}, "10.0.0.1"]]}}]}"#,
         ["nftables": [["metainfo": ["version": "1.0.6", "json_schema_version": 1]],
                       ["map": ["name": "fwd4", "type": ["ifname", "inet_proto", "inet_service"],
                                "elem": [[["concat": ["ext0", "tcp", 10000]], "10.100.0.2"],
                                         [["concat": ["ext0", 6, ["range": [8000, 8010]]]], "10.0.0.1"]]]]]]),
        (#"{"rule": {"comment": "quote \" back\\slash \/ tab\t nl\n cr\r bell\u0007 snow\u2603 face\ud83d\ude00", "expr": [{"match": {"op": "==", "right": true}}, {"masquerade": null}]}}"#,
         ["rule": ["comment": "quote \" back\\slash / tab\t nl\n cr\r bell\u{7} snow\u{2603} face\u{1F600}",
                   "expr": [["match": ["op": "==", "right": true]], ["masquerade": NSNull()]]]]),
        (#"[1, -2, 0, false, true, [], {}, "", {"b": 1, "a": 2, "c": {"z": [], "y": {}}}]"#,
         [1, -2, 0, false, true, [Any](), [String: Any](), "", ["b": 1, "a": 2, "c": ["z": [Any](), "y": [String: Any]()]]]),
        (" \n\t[ 1 ,\r\n {\"k\" : \"v\" } ] \n", [1, ["k": "v"]]),
    ] }

    @Test func canonicalTextMatchesWhatMooringBuilds() throws {
        for (text, built) in Self.listings {
            let value = try #require(JSONValue.parse(text), "\(text)")
            #expect(value.canonicalText == CanonicalJSON.text(built))
        }
    }

    @Test func readsFieldsAndTypes() throws {
        let value = try #require(JSONValue.parse(#"{"chain": {"name": "forward", "prio": -100, "hook": "forward"}, "list": ["a", 2]}"#))
        #expect(value["chain"]?["name"]?.string == "forward")
        #expect(value["chain"]?["prio"]?.int == -100)
        #expect(value["chain"]?["policy"] == nil)
        #expect(value["list"]?.array?.count == 2)
        #expect(value["list"]?.string == nil)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "{\"a\": 1,}", "\"open", "tru", "[1] 2", "{\"a\": \"\\x\"}", "\"\\u12\"",
                      String(repeating: "[", count: 100_000)])
    func rejectsWhatIsNotOneJSONValue(_ text: String) {
        #expect(JSONValue.parse(text) == nil)
    }
}
