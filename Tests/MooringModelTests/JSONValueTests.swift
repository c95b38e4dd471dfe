import Foundation
import Testing
@testable import MooringModel

/// The listing reader and the writer must agree: the planner compares mooring's own table (built as values,
/// written canonically) with libnftables' listing (read by the same type), and any spelling difference would
/// show a converged host as drifted.
struct JSONValueTests {
    /// Each listing text, the value mooring builds for it, and its canonical text.
    static var listings: [(text: String, built: JSONValue, canonical: String)] { [
        (#"{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}, {"map": {"name": "fwd4", "type": ["ifname", "inet_proto", "inet_service"], "elem": [[{"concat": ["ext0", "tcp", 10000]}, "10.100.0.2"], [{"concat": ["ext0", 6, {"range": [8000, 8010]}]}, "10.0.0.1"]]}}]}"#,
         ["nftables": [["metainfo": ["version": "1.0.6", "json_schema_version": 1]],
                       ["map": ["name": "fwd4", "type": ["ifname", "inet_proto", "inet_service"],
                                "elem": [[["concat": ["ext0", "tcp", 10000]], "10.100.0.2"],
                                         [["concat": ["ext0", 6, ["range": [8000, 8010]]]], "10.0.0.1"]]]]]],
         #"{"nftables":[{"metainfo":{"json_schema_version":1,"version":"1.0.6"}},{"map":{"elem":[[{"concat":["ext0","tcp",10000]},"10.100.0.2"],[{"concat":["ext0",6,{"range":[8000,8010]}]},"10.0.0.1"]],"name":"fwd4","type":["ifname","inet_proto","inet_service"]}}]}"#),
        (#"{"rule": {"comment": "quote \" back\\slash \/ tab\t nl\n cr\r bell\u0007 snow\u2603 face\ud83d\ude00", "expr": [{"match": {"op": "==", "right": true}}, {"masquerade": null}]}}"#,
         ["rule": ["comment": "quote \" back\\slash / tab\t nl\n cr\r bell\u{7} snow\u{2603} face\u{1F600}",
                   "expr": [["match": ["op": "==", "right": true]], ["masquerade": .null]]]],
         #"{"rule":{"comment":"quote \" back\\slash / tab\t nl\n cr\r bell\u0007 snow☃ face😀","expr":[{"match":{"op":"==","right":true}},{"masquerade":null}]}}"#),
        (#"[1, -2, 0, false, true, [], {}, "", {"b": 1, "a": 2, "c": {"z": [], "y": {}}}]"#,
         [1, -2, 0, false, true, [], [:], "", ["b": 1, "a": 2, "c": ["z": [], "y": [:]]]],
         #"[1,-2,0,false,true,[],{},"",{"a":2,"b":1,"c":{"y":{},"z":[]}}]"#),
        (" \n\t[ 1 ,\r\n {\"k\" : \"v\" } ] \n", [1, ["k": "v"]], #"[1,{"k":"v"}]"#),
    ] }

    @Test func readValuesEqualBuiltValuesAndWriteOneCanonicalText() throws {
        for (text, built, canonical) in Self.listings {
            let value = try #require(JSONValue.parse(text), "\(text)")
            #expect(value == built)
            #expect(value.canonicalText == canonical)
            #expect(built.canonicalText == canonical)
            #expect(JSONValue.parse(value.prettyText) == value, "pretty text reads back")
        }
        // Key order never matters to equality (or to the hash, which is the canonical text's).
        #expect((["a": 1, "b": 2] as JSONValue) == ["b": 2, "a": 1])
        #expect(Set<JSONValue>([["a": 1, "b": 2], ["b": 2, "a": 1]]).count == 1)
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
