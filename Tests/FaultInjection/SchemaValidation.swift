import Foundation
import QMP

/// Validates JSON output against the repository's `schemas/` with Python's jsonschema, for every test target.
public enum SchemaValidation {
    /// The repository root.
    public static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Validates `json` against `schemas/SCHEMA`; returns jsonschema's error text, nil when valid.
    public static func errors(_ json: JSON, schema: String) async throws -> String? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).json").path
        try json.serialized().write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let outcome = try await Subprocess.run("/usr/bin/env", ["python3", "-c", """
            import json, sys, jsonschema
            jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))
            """, file, repository + "/schemas/" + schema])
        return outcome.exitStatus == 0 ? nil : outcome.stdout + outcome.stderr
    }
}
