import Foundation
import QMP

/// Reads host results from the command line's arguments: `[LABEL=]PATH[,PATH...]`, each PATH a probe report
/// (`probe --json`), one of our recordings (`.jsonl`) or a libvirt `.replies` file. Several paths make one host
/// (e.g. its KVM and TCG recordings: the KVM section then gets its `added` features against TCG, as a live probe).
public enum HostResultLoader {
    /// Splits `[LABEL=]PATH[,PATH...]`.
    /// - Throws: ``ProberError/invalidInput(_:)`` for an empty label or path.
    public static func parseArgument(_ argument: String) throws -> (label: String?, paths: [String]) {
        var rest = Substring(argument)
        var label: String?
        if let equals = rest.firstIndex(of: "="), !rest[..<equals].contains("/") {
            label = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            if label!.isEmpty { throw ProberError.invalidInput("'\(argument)': empty label before '='") }
        }
        let paths = rest.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if paths.isEmpty || paths.contains(where: \.isEmpty) {
            throw ProberError.invalidInput("'\(argument)': expected [LABEL=]PATH[,PATH...]")
        }
        return (label, paths)
    }

    /// Loads one host from an argument.
    /// - Throws: ``ProberError`` naming the file when it is missing or not one of the accepted kinds.
    public static func load(_ argument: String) async throws -> HostResult {
        let (label, paths) = try parseArgument(argument)
        var reports: [ProbeReport] = []
        var probes: [AcceleratorProbe] = []
        var binary: String?
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProberError.invalidInput("\(path): cannot be read (\(String(cString: strerror(errno))))")
            }
            let bytes = [UInt8](data)
            if let report = try reportJSON(bytes, path: path) {
                reports.append(report)
                continue
            }
            let runner = ProbeRunner(source: .replay(path: path, mode: .matching))
            let gathered = try await runner.gather()
            probes += gathered.probes
            binary = binary ?? gathered.binary
        }
        if !probes.isEmpty {
            reports.insert(ProbeReport.compute(probes: probes, source: "replay " + paths.joined(separator: ","), binary: binary), at: 0)
        }
        var report = reports[0]
        for other in reports.dropFirst() {
            for accelerator in other.accelerators {
                if report.accelerators.contains(where: { $0.name == accelerator.name }) {
                    throw ProberError.invalidInput("'\(argument)': two results for \(accelerator.name)")
                }
                report.accelerators.append(accelerator)
            }
        }
        let defaultLabel = URL(fileURLWithPath: paths[0]).deletingPathExtension().lastPathComponent
        return HostResult(label: label ?? defaultLabel, paths: paths, report: report)
    }

    /// Loads many hosts, several at a time (one per core), keeping the order of `arguments`.
    /// - Throws: the first failure, naming its file.
    public static func loadAll(_ arguments: [String]) async throws -> [HostResult] {
        let width = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var results = [HostResult?](repeating: nil, count: arguments.count)
        try await withThrowingTaskGroup(of: (Int, HostResult).self) { group in
            var next = 0
            func start() {
                guard next < arguments.count else { return }
                let index = next
                next += 1
                group.addTask { (index, try await load(arguments[index])) }
            }
            for _ in 0..<width { start() }
            for try await (index, result) in group {
                results[index] = result
                start()
            }
        }
        return results.map { $0! }
    }

    /// The report in `bytes` when they are a probe report's JSON; nil when they are something else (a recording).
    /// - Throws: ``ProberError/invalidInput(_:)`` when they are a report of another schema or a malformed one.
    static func reportJSON(_ bytes: [UInt8], path: String) throws -> ProbeReport? {
        guard bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else { return nil }
        guard let json = try? JSON.parse(bytes), let object = json.objectValue else { return nil }
        if object["format"] != nil { return nil }  // a recording of one line
        guard object["schema"] != nil else {
            throw ProberError.invalidInput("\(path): a JSON object but not a probe report (no \"schema\"; expected `probe --json` output)")
        }
        return try ProbeReport(json: json, source: path)
    }
}
