import Foundation
import QMP
import QMPFuzzing

#if QMP_FUZZING
/// libFuzzer's entry point: runs one input through ``QMPFuzzHarness`` and crashes on any violated invariant.
@_cdecl("LLVMFuzzerTestOneInput")
public func qmpFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let violations = QMPFuzzHarness.check(input)
    if !violations.isEmpty {
        fatalError("invariant violated: " + violations.map(\.description).joined(separator: "\n"))
    }
    return 0
}

/// libFuzzer's driver (in the fuzzer runtime that `-sanitize=fuzzer` links).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// `qmp-fuzz`: built by `scripts/fuzz.sh` (`-sanitize=fuzzer,address -D QMP_FUZZING`) it is a libFuzzer binary
/// over ``QMPFuzzHarness`` (libFuzzer's options and corpus directories as arguments). In an ordinary build it
/// replays the files named on the command line through the harness and exits 1 when any violates an invariant
/// (`--explain` first also prints how each file decodes).
@main
enum QMPFuzzMain {
    /// Runs libFuzzer (fuzzing build) or replays files (ordinary build).
    static func main() {
        #if QMP_FUZZING
        // SwiftPM names this function the program's entry point, so libFuzzer's own main is not linked in:
        // hand control to its driver.
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, qmpFuzzTestOneInput))
        #else
        var failed = false
        var arguments = CommandLine.arguments.dropFirst()
        let explain = arguments.first == "--explain"
        if explain { arguments = arguments.dropFirst() }
        for path in arguments {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot be read")
                failed = true
                continue
            }
            let violations = QMPFuzzHarness.check([UInt8](data))
            print("\(path): " + (violations.isEmpty ? "ok" : violations.map(\.description).joined(separator: "; ")))
            if explain { print(QMPFuzzHarness.explain([UInt8](data))) }
            failed = failed || !violations.isEmpty
        }
        exit(failed ? 1 : 0)
        #endif
    }
}
