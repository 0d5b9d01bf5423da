// qmp-load-bench: how fast recordings load, against json-c's own parse of the same bytes.
//
//   qmp-load-bench [--repeat N] FILE...
//
// For each file, prints three lines (medians over N runs, in MB/s of file bytes):
//   loader  FILE MB/s   RecordingLoader.load (json-c tokener + the replay model; replies stay in json-c's form)
//   loader+ FILE MB/s   the same, then every reply converted to JSON (what replaying every command costs)
//   parse   FILE MB/s   JSON.parse of every line (json-c tokener + our JSON values, no replay model)
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

/// Loads and frees the sessions; returns the number of commands.
@inline(never)
func loadAndCount(_ bytes: [UInt8], _ file: String) throws -> Int {
    let sessions = try RecordingLoader.load(bytes: bytes, source: file)
    return sessions.reduce(0) { $0 + $1.exchanges.count }
}

/// Loads, converts every reply to `JSON` (as replaying every command does), and frees; returns the replies.
@inline(never)
func loadAndConvert(_ bytes: [UInt8], _ file: String) throws -> Int {
    let sessions = try RecordingLoader.load(bytes: bytes, source: file)
    var replies = 0
    for session in sessions { for exchange in session.exchanges where exchange.reply != nil { replies += 1 } }
    return replies
}

for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("qmp-load-bench: cannot read \(file)\n".utf8))
        exit(2)
    }
    let bytes = [UInt8](data)
    let megabytes = Double(bytes.count) / 1e6
    var loaderTimes: [Double] = []
    var parseTimes: [Double] = []
    var convertTimes: [Double] = []
    var exchanges = 0
    for _ in 0..<repeatCount {
        // Every timing includes freeing what was loaded, as json-c's raw loop frees each object it parsed.
        let start = ContinuousClock.now
        exchanges = try loadAndCount(bytes, file)
        let elapsed = ContinuousClock.now - start
        loaderTimes.append(elapsed.inSeconds)

        let convertStart = ContinuousClock.now
        let replies = try loadAndConvert(bytes, file)
        let convertElapsed = ContinuousClock.now - convertStart
        convertTimes.append(convertElapsed.inSeconds)
        precondition(replies > 0)

        let parseStart = ContinuousClock.now
        var count = 0
        var lineStart = 0
        while lineStart < bytes.count {
            let end = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            if end > lineStart, (try? JSON.parse(bytes[lineStart..<end])) != nil { count += 1 }
            lineStart = end + 1
        }
        let parseElapsed = ContinuousClock.now - parseStart
        parseTimes.append(parseElapsed.inSeconds)
        precondition(count > 0 || !file.hasSuffix(".jsonl"))
    }
    let name = (file as NSString).lastPathComponent
    print("loader  \(name) \(String(format: "%.1f", megabytes / median(loaderTimes))) MB/s (\(exchanges) commands, \(String(format: "%.2f", megabytes)) MB)")
    print("loader+ \(name) \(String(format: "%.1f", megabytes / median(convertTimes))) MB/s")
    if file.hasSuffix(".jsonl") {
        print("parse   \(name) \(String(format: "%.1f", megabytes / median(parseTimes))) MB/s")
    }
}
