import Foundation

/// One text per JSON value: keys sorted, no whitespace. nftables expressions built by mooring and the
/// ones libnftables lists back compare equal exactly when they mean the same.
public enum CanonicalJSON {
    public static func text(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: value,
                                                     options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func parse(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    public static func normalize(_ text: String) -> String { parse(text).map(Self.text) ?? text }
}
