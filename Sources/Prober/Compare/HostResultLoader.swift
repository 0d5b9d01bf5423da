import Foundation
import QMP

/// Reads host results from the command line's arguments: `[LABEL=]PATH[,PATH...]`, each PATH a probe report
/// (`probe --json`), one of our recordings (`.jsonl`) or a libvirt `.replies` file. Several paths make one host
/// (e.g. its KVM and TCG recordings: the KVM section then gets its `added` features against TCG, as a live probe).
public enum HostResultLoader {
    /// Splits `[LABEL=]PATH[,PATH...]`.
    /// - Throws: ``ProberError/invalidInput(_:)`` for an empty label or path.
    package static func parseArgument(_ argument: String) throws -> (label: String?, paths: [String]) {
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
        return try await load(label: label, paths: paths, contents: paths.map(FileContents.bytes(of:)))
    }

    /// Loads one host from its files' bytes (recordings are replayed from their paths).
    static func load(label: String?, paths: [String], contents: [[UInt8]]) async throws -> HostResult {
        var reports: [ProbeReport] = []
        var probes: [AcceleratorProbe] = []
        var binary: String?
        for (path, bytes) in zip(paths, contents) {
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
            reports.insert(ProbeReport.compute(probes: probes, source: replaySource(paths), binary: binary), at: 0)
        }
        var report = reports[0]
        for other in reports.dropFirst() {
            for accelerator in other.accelerators {
                if report.accelerators.contains(where: { $0.name == accelerator.name }) {
                    throw ProberError.invalidInput("'\(label.map { $0 + "=" } ?? "")\(paths.joined(separator: ","))': two results for \(accelerator.name)")
                }
                report.accelerators.append(accelerator)
            }
        }
        return HostResult(label: label ?? defaultLabel(paths), paths: paths, report: report)
    }

    private static func replaySource(_ paths: [String]) -> String { "replay " + paths.joined(separator: ",") }

    private static func defaultLabel(_ paths: [String]) -> String {
        URL(fileURLWithPath: paths[0]).deletingPathExtension().lastPathComponent
    }

    /// The arguments with every directory replaced by the results in it: its `*.json`, `*.jsonl` and `*.replies`
    /// files, sorted by name (a fleet's results in one folder need no shell expansion, and no argument limit).
    /// - Throws: ``ProberError/invalidInput(_:)`` for a directory that cannot be listed or holds no result.
    package static func expandDirectories(_ arguments: [String]) throws -> [String] {
        var expanded: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard !argument.contains(","), !argument.contains("="),
                  FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue else {
                expanded.append(argument)
                continue
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: argument)
            } catch {
                throw ProberError.invalidInput("\(argument): cannot be listed (\(error.localizedDescription))")
            }
            let results = names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonl") || $0.hasSuffix(".replies") }.sorted()
            guard !results.isEmpty else {
                throw ProberError.invalidInput("\(argument): a directory with no results in it (*.json, *.jsonl, *.replies)")
            }
            let base = argument.hasSuffix("/") ? String(argument.dropLast()) : argument
            expanded += results.map { base + "/" + $0 }
        }
        return expanded
    }

    /// Loads many hosts, keeping the order of `arguments`, on every core.
    ///
    /// Hosts whose files are byte for byte the same as another host's (same hardware, same QEMU: the common case
    /// in a fleet) share one parse: every file is read and fingerprinted first, each distinct content is parsed
    /// once, and every other file of its group is compared with it byte for byte before it shares the result.
    /// The cost therefore grows with the bytes read plus the number of *distinct* results, not hosts × parse.
    /// - Throws: the first failure, naming its file.
    public static func loadAll(_ arguments: [String]) async throws -> [HostResult] {
        let parsed = try arguments.map(parseArgument)
        let fingerprints = try await concurrentMap(parsed) { argument in
            try argument.paths.map { FileContents.fingerprint(try FileContents.bytes(of: $0)) }
        }
        var groups: [[Int]] = []
        var groupOf: [[FileContents.Fingerprint]: Int] = [:]
        for (index, key) in fingerprints.enumerated() {
            if let group = groupOf[key] {
                groups[group].append(index)
            } else {
                groupOf[key] = groups.count
                groups.append([index])
            }
        }
        let loaded = try await concurrentMap(Array(groups.enumerated())) { group, members -> [(Int, HostResult)] in
            let first = parsed[members[0]]
            let contents = try first.paths.map(FileContents.bytes(of:))
            var representative = try await load(label: first.label, paths: first.paths, contents: contents)
            if members.count > 1 { representative.sharedResult = group }
            var results = [(members[0], representative)]
            for member in members.dropFirst() {
                let argument = parsed[member]
                let memberContents = try argument.paths.map(FileContents.bytes(of:))
                if FileContents.same(memberContents, contents) {
                    var result = representative
                    result.label = argument.label ?? defaultLabel(argument.paths)
                    result.paths = argument.paths
                    if result.report.source == replaySource(first.paths) { result.report.source = replaySource(argument.paths) }
                    results.append((member, result))
                } else {
                    // Same fingerprint, different bytes: parsed on its own (and not sharing the group's identity).
                    results.append((member, try await load(label: argument.label, paths: argument.paths, contents: memberContents)))
                }
            }
            return results
        }
        var results = [HostResult?](repeating: nil, count: arguments.count)
        for (index, result) in loaded.joined() { results[index] = result }
        return results.map { $0! }
    }

    /// `transform` applied to every element, several at a time (one per core), results in order.
    private static func concurrentMap<Element: Sendable, Result: Sendable>(
        _ elements: [Element], _ transform: @escaping @Sendable (Element) async throws -> Result
    ) async throws -> [Result] {
        let width = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var results = [Result?](repeating: nil, count: elements.count)
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var next = 0
            func start() {
                guard next < elements.count else { return }
                let index = next
                next += 1
                group.addTask { (index, try await transform(elements[index])) }
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
        let document: ParsedJSON
        do {
            document = try bytes.withUnsafeBytes { try ParsedJSON(parsing: $0) }
        } catch {
            // A recording is several JSON lines, which is no single JSON value; a `.json` file is meant as a report.
            if path.hasSuffix(".json") { throw ProberError.invalidInput("\(path): not valid JSON (\(error)); expected `probe --json` output") }
            return nil
        }
        guard document.rootNode.isObject else { return nil }
        let object = document.rootNode
        if object["format"] != nil { return nil }  // a recording of one line
        guard object["schema"] != nil else {
            throw ProberError.invalidInput("\(path): a JSON object but not a probe report (no \"schema\"; expected `probe --json` output)")
        }
        return try ProbeReport(node: object, source: path)
    }
}
