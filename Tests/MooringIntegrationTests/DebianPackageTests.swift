import Foundation
import Testing

/// The Debian package as Debian's own tools judge it: lintian finds nothing (no error, no warning), and every man
/// page is indexed by whatis (lexgrog reads its NAME line).
@Suite(.enabled(if: TestEnvironment.debianPackage != nil, "needs the package: make deb"),
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian"), "needs lintian (scripts/install-deps)"))
struct DebianPackageTests {
    @Test func lintianFindsNothing() throws {
        let package = try #require(TestEnvironment.debianPackage)
        let result = try Shell.run(["lintian", "--tag-display-limit", "0", package])
        let tags = result.stdout.split(separator: "\n").filter { $0.hasPrefix("E:") || $0.hasPrefix("W:") }
        #expect(tags.isEmpty, "\(tags.joined(separator: "\n"))")
    }

    @Test func whatisIndexesEveryManPage() throws {
        let package = try #require(TestEnvironment.debianPackage)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deb-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Shell.must("dpkg-deb", "-x", package, root)
        let pages = try FileManager.default.contentsOfDirectory(atPath: root + "/usr/share/man/man1").sorted()
        #expect(pages.count >= 10 && pages.contains("mooring-restart.1.gz"), "\(pages)")
        for page in pages {
            let name = String(page.dropLast(".1.gz".count))
            let entry = try Shell.run(["lexgrog", root + "/usr/share/man/man1/" + page])
            #expect(entry.status == 0 && entry.stdout.contains("\"\(name) - "), "\(page): \(entry.stdout)\(entry.stderr)")
            let text = try Shell.must("sh", "-c", "zcat '\(root)/usr/share/man/man1/\(page)'")
            for section in ["EXIT STATUS", "FILES", "SEE ALSO"] { #expect(text.contains(".SH \"\(section)\"") || text.contains(".SH \(section)"), "\(page): \(section)") }
            #expect(text.contains(".TH \(name.uppercased()) "), "\(page): its own title")
        }
    }
}
