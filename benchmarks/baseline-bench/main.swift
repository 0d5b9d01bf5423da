// baseline-bench: how `qmp-probe baseline` scales with the number of hosts.
//
//   swift run -c release baseline-bench [--hosts N] [--files M] [--seed S]
//
// The fleet is synthetic but derived from real results: recorded-sessions/ (QEMU 7.2 and 10.0, KVM and TCG, on
// this project's machine). Host i starts from one of the two real results (alternating) and loses a random 0-8
// features of its host model (seeded), as a host with older hardware or a masked CPU would: every model that asks
// for a lost feature becomes unusable there, with those features added to its unavailable-features.
//
// Prints, for N/8, N/4, N/2 and N hosts:
//   fleet-baseline  HOSTS  SECONDS   the bitset implementation (FleetBaseline.compute), results in memory
//   string-sets     HOSTS  SECONDS   the peer: the same computation over Set<String> (the obvious implementation)
// then the cost of reading results back from `probe --json` files (M files, all cores), extrapolated to N.
// Both implementations are checked to agree (models usable everywhere, shared features, base model).

import Foundation
import Prober
import QMP

struct Options {
    var hosts = 10_000
    var files = 200
    var seed: UInt64 = 42
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--hosts": options.hosts = Int(arguments.next() ?? "") ?? options.hosts
        case "--files": options.files = Int(arguments.next() ?? "") ?? options.files
        case "--seed": options.seed = UInt64(arguments.next() ?? "") ?? options.seed
        default:
            FileHandle.standardError.write(Data("usage: baseline-bench [--hosts N] [--files M] [--seed S]\n".utf8))
            exit(2)
        }
    }
    return options
}

/// A small deterministic generator (SplitMix64), so every run builds the same fleet.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Host `index` of the fleet: a real result minus some host-model features.
func synthesize(_ base: HostResult, index: Int, random: inout SplitMix) -> HostResult {
    var report = base.report
    for a in report.accelerators.indices {
        guard var host = report.accelerators[a].hostModel else { continue }
        let lost = Set(host.migratable.shuffled(using: &random).prefix(Int.random(in: 0...8, using: &random)))
        guard !lost.isEmpty else { continue }
        host.migratable.removeAll { lost.contains($0) }
        for key in lost { host.props[key] = .bool(false) }
        report.accelerators[a].hostModel = host
        for m in report.accelerators[a].models.indices {
            let model = report.accelerators[a].models[m]
            let missing = (model.enabled ?? []).filter { lost.contains($0) }
            guard !missing.isEmpty else { continue }
            report.accelerators[a].models[m].usable = false
            report.accelerators[a].models[m].blockers = (model.blockers ?? []) + missing
            report.accelerators[a].models[m].dropped = Array(Set((model.dropped ?? []) + missing)).sorted()
        }
    }
    return HostResult(label: "host\(index)", paths: [], report: report)
}

/// The peer: the same baseline with string sets (canonical keys), no index, no bitsets.
enum StringSetBaseline {
    struct Result: Equatable {
        var usableEverywhere: [String]
        var shared: Set<String>
        var baseModel: String?
    }

    static func compute(_ hosts: [HostResult], accelerator: String) -> Result {
        var order: [String] = []
        var usable: [String: Int] = [:]
        var groups: [String: [Set<String>: [Int]]] = [:]
        var presence: [Set<String>] = []
        var shared: Set<String>?
        for (index, host) in hosts.enumerated() {
            guard let section = host.accelerator(accelerator) else { continue }
            if let model = section.hostModel {
                let set = Set(model.migratable.map(FeatureIndex.key).filter { !FeatureIndex.isCPUOption($0) })
                shared = shared.map { $0.intersection(set) } ?? set
            }
            var present = Set<String>()
            for model in section.models where present.insert(model.name).inserted {
                if usable[model.name] == nil, groups[model.name] == nil { order.append(model.name) }
                if model.usable == true {
                    usable[model.name, default: 0] += 1
                } else {
                    groups[model.name, default: [:]][Set((model.dropped ?? []).map(FeatureIndex.key)), default: []].append(index)
                }
            }
            presence.append(present)
        }
        let everywhere = order.filter { name in usable[name] == hosts.count && presence.allSatisfy { $0.contains(name) } }
        let sharedSet = shared ?? []
        // Score as FleetBaseline does: unversioned candidates, features common to every build's expansion.
        var best: (String, Int, Int)?
        for name in everywhere where !FleetBaseline.notBaselines.contains(name) && name.range(of: #"-v[0-9]+$"#, options: .regularExpression) == nil {
            var common: Set<String>?
            var all = Set<String>()
            var seen = Set<String>()
            for host in hosts where seen.insert(host.report.version.description + host.report.version.package).inserted {
                guard let enabled = host.accelerator(accelerator)?.models.first(where: { $0.name == name })?.enabled else { continue }
                let set = Set(enabled.map(FeatureIndex.key).filter { !FeatureIndex.isCPUOption($0) })
                common = common.map { $0.intersection(set) } ?? set
                all.formUnion(set)
            }
            guard let common else { continue }
            let score = common.intersection(sharedSet).count, outside = all.subtracting(sharedSet).count
            if best == nil || score > best!.1 || (score == best!.1 && outside < best!.2) { best = (name, score, outside) }
        }
        return Result(usableEverywhere: everywhere, shared: sharedSet, baseModel: best?.0)
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }

let options = parseOptions()
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let recorded = repository + "/recorded-sessions"
let bases = try await HostResultLoader.loadAll([
    "qemu-7.2=\(recorded)/qemu-7.2-x86_64-kvm.jsonl,\(recorded)/qemu-7.2-x86_64-tcg.jsonl",
    "qemu-10.0=\(recorded)/qemu-10.0-x86_64-kvm.jsonl,\(recorded)/qemu-10.0-x86_64-tcg.jsonl",
])
var random = SplitMix(state: options.seed)
let fleet = (0..<options.hosts).map { synthesize(bases[$0 % 2], index: $0, random: &random) }
let models = Set(fleet.prefix(2).flatMap { $0.report.accelerators.flatMap { $0.models.map(\.name) } }).count
print("baseline-bench: \(options.hosts) synthetic hosts from recorded-sessions (QEMU 7.2 and 10.0, kvm and tcg; \(models) model names), seed \(options.seed), \(ProcessInfo.processInfo.activeProcessorCount) cores")

var sizes = [options.hosts / 8, options.hosts / 4, options.hosts / 2, options.hosts].filter { $0 > 0 }
sizes = Array(Set(sizes)).sorted()
for size in sizes {
    let hosts = Array(fleet.prefix(size))
    var report: BaselineReport?
    let ours = try seconds { report = try FleetBaseline.compute(hosts: hosts) }
    var peer: [StringSetBaseline.Result] = []
    let theirs = seconds { peer = ["kvm", "tcg"].map { StringSetBaseline.compute(hosts, accelerator: $0) } }
    for (accelerator, expected) in zip(report!.accelerators, peer) {
        let got = StringSetBaseline.Result(usableEverywhere: accelerator.models.filter(\.usableEverywhere).map(\.name),
                                           shared: Set(accelerator.shared.map(FeatureIndex.key)),
                                           baseModel: accelerator.baseline?.model)
        if got != expected {
            print("MISMATCH (\(accelerator.name), \(size) hosts): bitsets \(got.baseModel ?? "-") \(got.usableEverywhere.count) \(got.shared.count), string sets \(expected.baseModel ?? "-") \(expected.usableEverywhere.count) \(expected.shared.count)")
            exit(1)
        }
    }
    print("fleet-baseline  hosts=\(size)  \(format(ours)) s   (\(format(ours / Double(size) * 1e6)) µs/host)")
    print("string-sets     hosts=\(size)  \(format(theirs)) s   (\(format(theirs / ours))× the bitset time)")
}

// Reading results back: `probe --json` files, all cores.
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
var paths: [String] = []
var bytes = 0
for host in fleet.prefix(options.files) {
    let path = "\(directory)/\(host.label).json"
    let data = Data(host.report.json.serializedBytes())
    bytes += data.count
    FileManager.default.createFile(atPath: path, contents: data)
    paths.append(path)
}
var loaded: [HostResult] = []
let load = try await {
    let start = ContinuousClock.now
    loaded = try await HostResultLoader.loadAll(paths)
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}()
precondition(loaded.count == paths.count)
let perFile = load / Double(paths.count)
print("load-json       files=\(paths.count)  \(format(load)) s   (\(format(perFile * 1000)) ms/file, \(bytes / paths.count / 1024) KiB/file; \(options.hosts) files ≈ \(format(perFile * Double(options.hosts))) s)")
