import MooringReports
import Testing

/// `mooring console` prints what the guest wrote; the guest must not reach the operator's terminal through it.
struct ConsoleFilterTests {
    @Test(arguments: [
        ("OSC 52 (set the clipboard)", "a\u{1B}]52;c;cm0gLXJmIH4K\u{07}b", "ab"),
        ("OSC 0 (window title) ended by ST", "a\u{1B}]0;pwned\u{1B}\\b", "ab"),
        ("clear the screen, home the cursor", "\u{1B}[2J\u{1B}[Hlogin:", "login:"),
        ("colours", "\u{1B}[1;31mred\u{1B}[0m", "red"),
        ("a DCS string", "x\u{1B}P+q544e\u{1B}\\y", "xy"),
        ("8-bit CSI as UTF-8 (U+009B)", "x\u{9B}2Jy", "xy"),
        ("C1 NEL and other C1", "x\u{85}\u{8D}y", "xy"),
        ("a bare carriage return that would overwrite the line", "rm -rf /\rls", "rm -rf /ls"),
        ("bidirectional overrides", "user\u{202E}txt.exe", "usertxt.exe"),
        ("a charset switch", "\u{1B}(0qqq\u{1B}(B", "qqq"),
        ("BEL, backspace, DEL", "a\u{07}\u{08}\u{7F}b", "ab"),
    ])
    func controlSequencesAreDropped(_ name: String, _ input: String, _ expected: String) {
        #expect(ConsoleFilter.filter(Array(input.utf8)) == expected, "\(name)")
    }

    @Test func textTabsNewlinesAndCRLFStay() {
        let text = "Debian GNU/Linux 12 web ttyS0\r\n\tlogin: é ✓\n"
        #expect(ConsoleFilter.filter(Array(text.utf8)) == text)
    }

    /// `--follow` reads in chunks: a sequence or a character split across two reads is still handled whole.
    @Test func aSequenceSplitAcrossReadsIsStillDropped() {
        let bytes = Array("a\u{1B}]52;c;Zm9v\u{07}é\u{1B}[31mb".utf8)
        for cut in 1..<bytes.count {
            var filter = ConsoleFilter()
            let out = filter.feed(Array(bytes[..<cut])) + filter.feed(Array(bytes[cut...])) + filter.finish()
            #expect(out == "aéb", "cut at \(cut): \(out.debugDescription)")
        }
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        #expect(ConsoleFilter.filter([0x61, 0xFF, 0x62, 0x9B, 0x63]) == "a\u{FFFD}b\u{FFFD}c")
    }
}
