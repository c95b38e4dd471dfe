/// Decoding a Host manifest's spec.
extension ManifestDecoder {
    // MARK: Host

    func decodeHost(_ spec: MappingReader) -> HostSpec? {
        HostSpec(imageRoot: spec.string("imageRoot").flatMap(absolutePath), antiSpoofing: spec.bool("antiSpoofing"),
                 parentInterface: interfaceName(spec.string("parentInterface")),
                 defaultBridge: interfaceName(spec.string("defaultBridge")),
                 vmm: spec.oneOf("vmm", VMMKind.self),
                 accelerator: spec.oneOf("accelerator", Accelerator.self))
    }
}
