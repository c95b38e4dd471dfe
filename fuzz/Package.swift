// swift-tools-version:6.0
// A libFuzzer target for the manifest decoder. Not part of the main build (it needs -sanitize=fuzzer);
// see docs/reliability.md for how to run it.
import PackageDescription

let package = Package(
    name: "mooring-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "ManifestFuzzer",
            dependencies: [.product(name: "MooringModel", package: "main")],
            // Instrument for libFuzzer and AddressSanitizer, but link libFuzzer without its main(): SwiftPM
            // already points main at ManifestFuzzer_main, which starts libFuzzer's driver itself.
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=address", "-Xlinker", "--whole-archive",
                                           "-Xlinker", "/opt/swift/usr/lib/clang/21/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a",
                                           "-Xlinker", "--no-whole-archive", "-lstdc++"])]
        ),
    ]
)
