import FaultInjection
import Foundation
import Prober
import QMP
import Testing

/// Paths and helpers shared by the prober tests.
enum ProberTestSupport {
    /// The repository root.
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// A file in `recorded-sessions/`.
    static func recorded(_ name: String) -> String { repository + "/recorded-sessions/" + name }

    /// Every full-probe recording in `recorded-sessions/` (`qemu-*.jsonl`; `cpu-*` are guest CPU checks).
    static var recordedSessions: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: repository + "/recorded-sessions")) ?? [])
            .filter { $0.hasPrefix("qemu-") && $0.hasSuffix(".jsonl") }.sorted().map(recorded)
    }

    /// `../shared/corpus/libvirt`, or nil when absent (a note is printed).
    static var libvirtCorpus: String? {
        let path = URL(fileURLWithPath: repository).deletingLastPathComponent().path + "/shared/corpus/libvirt"
        if FileManager.default.fileExists(atPath: path) { return path }
        print("note: \(path) is absent; tests of the libvirt corpus are skipped")
        return nil
    }

    /// Replays `path` through the prober (matching mode) and returns the report.
    static func replay(_ path: String, against: [String: (label: String, probe: AcceleratorProbe)] = [:]) async throws -> ProbeReport {
        try await ProbeRunner(source: .replay(path: path, mode: .matching)).run(against: against)
    }

    /// One model of one accelerator of a report.
    static func model(_ report: ProbeReport, _ accelerator: String, _ name: String) throws -> ProbeReport.Model {
        let section = try #require(report.accelerators.first { $0.name == accelerator }, "no \(accelerator) in the report")
        return try #require(section.models.first { $0.name == name }, "no model \(name) under \(accelerator)")
    }

    /// Validates `json` against `schemas/SCHEMA` (the probe report by default) with Python's jsonschema; returns the error text.
    static func schemaErrors(_ json: JSON, schema: String = "probe-report.schema.json") async throws -> String? {
        try await SchemaValidation.errors(json, schema: schema)
    }

    /// Runs a program to completion on a thread of its own (never blocking Swift's small cooperative pool, whose
    /// starvation would delay other tests' timers) and returns its exit status and combined output.
    static func run(_ executable: String, _ arguments: [String], stderr: Bool = true) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    let pipe = Pipe()
                    process.standardOutput = pipe
                    process.standardError = stderr ? pipe : FileHandle.nullDevice
                    try process.run()
                    let output = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: output, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
