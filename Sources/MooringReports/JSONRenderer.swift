import MooringModel

/// Machine-readable output: one JSON document, pretty-printed with sorted keys, ending in a newline.
public enum JSONRenderer {
    public static func render(_ value: JSONValue) -> String { value.prettyText + "\n" }
}
