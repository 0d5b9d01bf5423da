import Foundation
@testable import Prober
import QMP
import Testing

@Suite("Enabled features read by position")
struct EnabledFeatureReaderTests {
    @Test("the same as CPUModelExpansion.enabled, sorted, for every expansion of every recorded session")
    func recordedSessions() async throws {
        let paths = ProberTestSupport.recordedSessions
        #expect(!paths.isEmpty)
        var compared = 0
        for path in paths {
            let (probes, _, _) = try await ProbeRunner(source: .replay(path: path, mode: .matching)).gather()
            for probe in probes {
                let (names, features) = ProbeReport.featureNames(probe)
                for filter in [features, nil] {
                    var reader = EnabledFeatureReader(names: names, features: filter)
                    // Static and full expansions alternate: the reader learns each key list again when it changes.
                    for expansions in probe.expansions.values {
                        for expansion in [expansions.staticExpansion, expansions.fullExpansion].compactMap({ $0 }) {
                            let expected = expansion.enabled(names: names, features: filter).sorted()
                            #expect(reader.enabled(expansion) == expected, "\(path) \(probe.accelerator) \(expansion.model)")
                            compared += 1
                        }
                    }
                }
            }
        }
        #expect(compared > 300, "only \(compared) expansions compared")
    }

    @Test("spellings of one feature count once, under its canonical name; a different key list is learnt again")
    func aliasesAndLayouts() {
        let names = FeatureNames(canonical: ["sse4.1", "pni", "nx"], arch: "x86_64")
        let first = CPUModelExpansion(model: "base", props: [
            "sse4_1": .bool(false), "sse4-1": .bool(true), "sse3": .bool(true), "model-id": .string("x"), "xd": .bool(false),
        ])
        let second = CPUModelExpansion(model: "base", props: ["xd": .bool(true), "sse3": .bool(false)])
        var reader = EnabledFeatureReader(names: names, features: nil)
        #expect(reader.enabled(first) == ["pni", "sse4.1"])
        #expect(reader.enabled(second) == ["nx"])
        #expect(reader.enabled(first) == ["pni", "sse4.1"])
        var onlyNX = EnabledFeatureReader(names: names, features: ["nx"])
        #expect(onlyNX.enabled(second) == ["nx"])
        #expect(onlyNX.enabled(first) == [])
    }
}
