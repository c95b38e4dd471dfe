/// The rule for the names of MicroVMs, NATs and Hosts (a DNS label). Names become unit names, run directories
/// and device names, so anything found on the host is trusted as a name only when it passes this.
public enum ResourceName {
    public static func isValid(_ text: String) -> Bool { ManifestDecoder.isDNSLabel(text) }
}
