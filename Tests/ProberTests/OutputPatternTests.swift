import FaultInjection
import Testing

/// The expected-output lines of the command-line tests and the README doc-test.
struct OutputPatternTests {
    @Test("a line matches itself; `...` stands for any text; trailing spaces and spaces next to `...` do not count")
    func lines() {
        #expect(OutputPattern("max  usable").matches("max  usable   "))
        #expect(!OutputPattern("max  usable").matches("max  usable; added: x"))
        #expect(!OutputPattern("max  usable").matches("max usable"))
        #expect(OutputPattern("a ... z").matches("a b c z"))
        #expect(OutputPattern("pentium2 ...").matches("pentium2"))
        #expect(OutputPattern("-cpu W,+a,...,+z").matches("-cpu W,+a,+b,+c,+z"))
        #expect(!OutputPattern("-cpu W,+a,...,+z").matches("-cpu W,+a,+b,+y"))
        #expect(!OutputPattern("a ... z").matches("b z"))
        #expect(OutputPattern("...").isElision && !OutputPattern("a ...").isElision)
    }

    @Test("runs of consecutive lines, `...` lines between them, in order")
    func transcripts() {
        let output = ["header", "", "one", "two", "three", "four"]
        #expect(OutputPattern.firstMissing(["one", "two"].map(OutputPattern.init), in: output) == nil)
        #expect(OutputPattern.firstMissing(["one", "...", "four"].map(OutputPattern.init), in: output) == nil)
        #expect(OutputPattern.firstMissing(["one", "three"].map(OutputPattern.init), in: output)?.text == "three")
        #expect(OutputPattern.firstMissing(["three", "...", "one"].map(OutputPattern.init), in: output)?.text == "one")
        #expect(OutputPattern.firstMissing(["five"].map(OutputPattern.init), in: output)?.text == "five")
        #expect(OutputPattern.firstMissing(["header", "", "one"].map(OutputPattern.init), in: output) == nil)
        #expect(OutputPattern("").matches(""))
    }
}
