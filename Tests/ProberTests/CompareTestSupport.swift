import Foundation
import Prober
import QMP
import Testing

/// Shared helpers of the compare and baseline tests: loaded hosts (cached: replaying is the slow part), schema
/// validation, and headless Chromium.
enum CompareTestSupport {
    /// Loads `[LABEL=]PATH[,PATH...]` once per test run (paths relative to the repository, or absolute).
    static func host(_ argument: String) async throws -> HostResult {
        try await cache.load(argument)
    }

    /// The host of both recordings of one QEMU (`7.2` or `10.0`): KVM (with `added` against TCG) and TCG.
    static func recordedHost(_ version: String) async throws -> HostResult {
        let kvm = ProberTestSupport.recorded("qemu-\(version)-x86_64-kvm.jsonl")
        let tcg = ProberTestSupport.recorded("qemu-\(version)-x86_64-tcg.jsonl")
        return try await host("qemu-\(version)=\(kvm),\(tcg)")
    }

    /// The verdict for `model` under `accelerator`.
    static func verdict(_ report: CompareReport, _ accelerator: String, _ model: String) throws -> ModelVerdict {
        let section = try #require(report.accelerators.first { $0.name == accelerator }, "no \(accelerator) in the report")
        return try #require(section.verdicts.first { $0.model == model }, "no verdict for \(model) under \(accelerator)")
    }

    /// The blocking features of a verdict, with their reasons.
    static func blockers(_ verdict: ModelVerdict) -> [String: ModelVerdict.Reason] {
        Dictionary(verdict.blockers.map { ($0.feature, $0.reason) }, uniquingKeysWith: { first, _ in first })
    }

    /// Validates `json` against `schemas/NAME.schema.json`; see ``ProberTestSupport/schemaErrors(_:schema:)``.
    static func schemaErrors(_ json: JSON, schema name: String) async throws -> String? {
        try await ProberTestSupport.schemaErrors(json, schema: "\(name).schema.json")
    }

    /// Runs a program; see ``ProberTestSupport/run(_:_:stderr:)``.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        try await ProberTestSupport.run(executable, arguments)
    }

    private static let cache = HostCache()
}

/// Loads each host once, even when tests ask concurrently.
private actor HostCache {
    private var tasks: [String: Task<HostResult, any Error>] = [:]

    func load(_ argument: String) async throws -> HostResult {
        if let task = tasks[argument] { return try await task.value }
        let task = Task { try await HostResultLoader.load(argument) }
        tasks[argument] = task
        return try await task.value
    }
}

/// Headless Chromium (Debian's `chromium`, installed by scripts/install-deps.sh).
enum HeadlessChromium {
    /// The binary, or nil when not installed (in CI that is a failure: see ``available``).
    static let binary: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Whether the HTML tests can run; CI installs Chromium, so a missing one there is recorded as a failure.
    static var available: Bool {
        if binary == nil, ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("CI must install chromium (scripts/install-deps.sh)")
        }
        return binary != nil
    }

    static let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,900"]

    /// Writes `html` to a file and returns its path.
    static func write(_ html: String, name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).html").path
        try html.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Screenshots `page` (1400×900) to a PNG and returns its path.
    static func screenshot(_ page: String) async throws -> String {
        let png = page.replacingOccurrences(of: ".html", with: ".png")
        let (status, output) = try await CompareTestSupport.run(try #require(binary), flags + ["--screenshot=\(png)", "file://\(page)"])
        #expect(status == 0, "chromium failed: \(output)")
        return png
    }

    /// The DOM after loading `page`.
    static func dumpDOM(_ page: String) async throws -> String {
        try await ProberTestSupport.run(try #require(binary), flags + ["--dump-dom", "file://\(page)"], stderr: false).1
    }

    /// Decodes a PNG (8-bit RGB/RGBA, not interlaced: what Chromium writes) with Python's zlib and counts the
    /// pixels of each colour in `colors` (CSS hex); also returns the image size.
    static func colorCounts(_ png: String, _ colors: [String]) async throws -> (width: Int, height: Int, counts: [String: Int]) {
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'
            pos, idat = 8, b''
            while pos < len(data):
                length, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + length]
                if kind == b'IHDR':
                    width, height, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
                    assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
                elif kind == b'IDAT':
                    idat += body
                pos += 12 + length
            raw = zlib.decompress(idat)
            bpp = 3 if ctype == 2 else 4
            stride = width * bpp
            prev = bytearray(stride)
            wanted = {bytes.fromhex(c.lstrip('#')): c for c in sys.argv[2:]}
            counts = dict.fromkeys(sys.argv[2:], 0)
            i = 0
            for _ in range(height):
                f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
                for x in range(stride):
                    a = line[x - bpp] if x >= bpp else 0
                    b = prev[x]
                    c = prev[x - bpp] if x >= bpp else 0
                    if f == 1: line[x] = (line[x] + a) & 255
                    elif f == 2: line[x] = (line[x] + b) & 255
                    elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                    elif f == 4:
                        p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                for x in range(0, stride, bpp):
                    key = bytes(line[x:x + 3])
                    if key in wanted: counts[wanted[key]] += 1
                prev = line
            print(width, height, ' '.join(f'{k}={v}' for k, v in counts.items()))
            """
        let (status, output) = try await CompareTestSupport.run("/usr/bin/env", ["python3", "-c", script, png] + colors)
        try #require(status == 0, "PNG decode failed: \(output)")
        let words = output.split(whereSeparator: \.isWhitespace)
        var counts: [String: Int] = [:]
        for word in words.dropFirst(2) {
            let parts = word.split(separator: "=")
            counts[String(parts[0])] = Int(parts[1])
        }
        return (Int(words[0]) ?? 0, Int(words[1]) ?? 0, counts)
    }
}
