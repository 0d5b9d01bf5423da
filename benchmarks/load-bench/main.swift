// qmp-load-bench: how fast recordings load, against json-c's own parse of the same bytes.
//
//   qmp-load-bench [--repeat N] FILE...
//
// For each file, prints two lines (medians over N runs, in MB/s of file bytes):
//   loader FILE MB/s   RecordingLoader.load (json-c tokener + our JSON values + the replay model)
//   parse  FILE MB/s   JSON.parse of every line (json-c tokener + our JSON values, no replay model)
// benchmarks/run-load-bench.sh compares them with json-c's raw tokener (jsonc_raw.c) and Python's json.

import Foundation
import QMP

var repeatCount = 20
var files: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--repeat", let value = arguments.popFirst(), let count = Int(value) { repeatCount = count }
    else { files.append(argument) }
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("qmp-load-bench: cannot read \(file)\n".utf8))
        exit(2)
    }
    let bytes = [UInt8](data)
    let megabytes = Double(bytes.count) / 1e6
    var loaderTimes: [Double] = []
    var parseTimes: [Double] = []
    var exchanges = 0
    for _ in 0..<repeatCount {
        let start = ContinuousClock.now
        let sessions = try RecordingLoader.load(bytes: bytes, source: file)
        let elapsed = ContinuousClock.now - start
        exchanges = sessions.reduce(0) { $0 + $1.exchanges.count }
        loaderTimes.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))

        let parseStart = ContinuousClock.now
        var count = 0
        var lineStart = 0
        while lineStart < bytes.count {
            let end = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            if end > lineStart, (try? JSON.parse(bytes[lineStart..<end])) != nil { count += 1 }
            lineStart = end + 1
        }
        let parseElapsed = ContinuousClock.now - parseStart
        parseTimes.append(Double(parseElapsed.components.attoseconds) / 1e18 + Double(parseElapsed.components.seconds))
        precondition(count > 0 || !file.hasSuffix(".jsonl"))
    }
    let name = (file as NSString).lastPathComponent
    print("loader \(name) \(String(format: "%.1f", megabytes / median(loaderTimes))) MB/s (\(exchanges) commands, \(String(format: "%.2f", megabytes)) MB)")
    if file.hasSuffix(".jsonl") {
        print("parse  \(name) \(String(format: "%.1f", megabytes / median(parseTimes))) MB/s")
    }
}
