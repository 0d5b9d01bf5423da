import Foundation
import QMP

/// One side of a guest ABI comparison: a QEMU that realizes the guest now, or a saved result of an earlier run.
public enum GuestSide: Sendable, Equatable {
    /// A QEMU binary (nil: `qemu-system-<host arch>` on PATH) that starts the guest paused and reads its CPU.
    case live(binary: String?)
    /// A saved result: the `--json` output of `qmp-probe cpu --live`, or the recording of such a run.
    case saved(path: String)

    /// What `path` is: a saved result (JSON or JSON Lines) or an executable (a QEMU binary, or a wrapper script).
    /// - Throws: ``ProberError/invalidInput(_:)`` when it is missing, a directory, or neither.
    public static func classify(_ path: String) throws -> GuestSide {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ProberError.invalidInput("\(path): no such file (expected a QEMU binary or a saved result of 'qmp-probe cpu --live --json')")
        }
        guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
            throw ProberError.invalidInput("\(path): cannot be read as a QEMU binary or a saved result")
        }
        let head = [UInt8]((try? handle.read(upToCount: 64)) ?? Data())
        try? handle.close()
        if let first = head.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{") { return .saved(path: path) }
        let isProgram = head.starts(with: [0x7F, 0x45, 0x4C, 0x46]) || head.starts(with: Array("#!".utf8))
        if isProgram, FileManager.default.isExecutableFile(atPath: path) { return .live(binary: path) }
        throw ProberError.invalidInput("\(path): neither a QEMU binary nor a saved result (the --json output of 'qmp-probe cpu --live', or its --record recording)")
    }

    /// The realized CPUs a saved result holds, one per machine type: the `realized` entries of a `cpu --live --json`
    /// output (schema ``GuestCPUResult/schema``), or the replayed guest sessions of a recording.
    /// - Throws: ``ProberError/invalidInput(_:)`` for a file of another kind or format version, or without a realized CPU.
    package static func loadSaved(path: String) async throws -> [RealizedCPU] {
        let bytes = try FileContents.bytes(of: path)
        let document: JSON
        do {
            document = try JSON.parse(bytes)
        } catch {
            // Not one JSON document: a recording (JSON Lines) or nothing usable.
            return try await replaySaved(bytes, path: path)
        }
        guard let schema = document["schema"]?.stringValue else {
            if document["format"]?.stringValue == SessionHeader.formatName { return try await replaySaved(bytes, path: path) }
            throw ProberError.invalidInput("\(path): not a saved result (no \"schema\"; expected the --json output of 'qmp-probe cpu --live')")
        }
        guard schema == GuestCPUResult.schema else {
            if schema.hasPrefix("qmp-probe/cpu-check/") {
                throw ProberError.invalidInput("\(path): a saved result of another format version (\(schema)); this qmp-probe reads \(GuestCPUResult.schema): save it again with 'qmp-probe cpu SPEC --live --json'")
            }
            throw ProberError.invalidInput("\(path): a \(schema), not a saved guest CPU (the --json output of 'qmp-probe cpu --live')")
        }
        let realized = document["realized"]?.arrayValue ?? []
        guard !realized.isEmpty else {
            throw ProberError.invalidInput("\(path): holds no realized CPU: it was saved without --live")
        }
        return try realized.enumerated().map { index, entry in
            try RealizedCPU(json: entry, source: path, at: "realized[\(index)]")
        }
    }

    /// The guest sessions of a recording whose bytes were read already.
    private static func replaySaved(_ bytes: [UInt8], path: String) async throws -> [RealizedCPU] {
        try await GuestRealization.replay(try QEMUSession.recordedSessions(path, bytes: bytes), path: path)
    }
}
