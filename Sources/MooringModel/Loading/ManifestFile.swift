/// The text of one manifest file, as read from disk and checked to be UTF-8.
public struct ManifestFile: Sendable {
    /// The path as shown in messages: the directory given on the command line joined with the relative path.
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}
