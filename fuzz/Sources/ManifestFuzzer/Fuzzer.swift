import MooringModel

/// libFuzzer's driver (from -sanitize=fuzzer): runs the fuzzing loop with our callback.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Any bytes must give a result (a DesiredState or diagnostics), never a crash or a hang.
func fuzzManifest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }  // the file reader refuses non-UTF-8
    let result = ManifestSet.parse(files: [ManifestFile(path: "fuzz.yaml", text: text)], hostName: "fuzz")
    // Invariant: a set without a DesiredState has at least one error saying why.
    if result.desired == nil && result.errors.isEmpty { fatalError("rejected without an error") }
    return 0
}

/// SwiftPM names an executable's entry point `<Target>_main`; it starts libFuzzer's loop.
@_cdecl("ManifestFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzManifest($0, $1) }
}
