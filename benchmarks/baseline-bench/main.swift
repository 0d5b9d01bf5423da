// baseline-bench: how `qmp-probe baseline` scales with the number of hosts.
//
//   swift run --package-path benchmarks -c release baseline-bench [--hosts N] [--files M] [--seed S] [--profiles P] [--no-peer] [--keep-files DIR]
//
// The fleet is synthetic but derived from real results: recorded-sessions/ (QEMU 7.2 and 10.0, KVM and TCG, on
// this project's machine). A hardware profile starts from one of the two real results (alternating) and loses a
// random 0-8 features of its host model (seeded), as older hardware or a masked CPU would: every model that asks
// for a lost feature becomes unusable there, with those features added to its unavailable-features. Each host
// takes a random profile (--profiles P, default 64; 0: every host its own, the worst case for grouping).
//
// Prints, for N/8, N/4, N/2 and N hosts:
//   fleet-baseline  HOSTS  SECONDS   the bitset implementation (FleetBaseline.compute), results in memory
//   string-sets     HOSTS  SECONDS   the peer: the same computation over Set<String> (the obvious implementation)
// then, end to end, M `probe --json` files (default: all N) written, read back (HostResultLoader.loadAll: all cores,
// byte-identical files parsed once) and the baseline computed over them.
// Both implementations are checked to agree (models usable everywhere, shared features, base model).

import Foundation
import Prober
import QMP

struct Options {
    var hosts = 10_000
    var files = -1  // default: every host
    var seed: UInt64 = 42
    var noPeer = false
    var profiles = 64
    var directory: String?
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--hosts": options.hosts = Int(arguments.next() ?? "") ?? options.hosts
        case "--files": options.files = Int(arguments.next() ?? "") ?? options.files
        case "--seed": options.seed = UInt64(arguments.next() ?? "") ?? options.seed
        case "--no-peer": options.noPeer = true
        case "--profiles": options.profiles = Int(arguments.next() ?? "") ?? options.profiles
        case "--keep-files": options.directory = arguments.next()
        default:
            FileHandle.standardError.write(Data("usage: baseline-bench [--hosts N] [--files M] [--seed S] [--profiles P] [--no-peer] [--keep-files DIR]\n".utf8))
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

/// The peer: the same baseline with string sets (the reports' canonical names as they are), no index, no bitsets.
enum StringSetBaseline {
    static func isFeature(_ name: String) -> Bool {
        !FeatureIndex.cpuOptions.contains(name) && !name.hasPrefix("hv-") && !name.hasPrefix("x-")
    }

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
                let set = Set(model.migratable.filter(isFeature))
                shared = shared.map { $0.intersection(set) } ?? set
            }
            var present = Set<String>()
            for model in section.models where present.insert(model.name).inserted {
                if usable[model.name] == nil, groups[model.name] == nil { order.append(model.name) }
                if model.usable == true {
                    usable[model.name, default: 0] += 1
                } else {
                    groups[model.name, default: [:]][Set(model.dropped ?? []), default: []].append(index)
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
                let set = Set(enabled.filter(isFeature))
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

/// The process's CPU time (user + system), in seconds: on a shared machine it says more than the wall clock.
func cpuTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Wall-clock and CPU seconds of `body`.
func seconds(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    let start = ContinuousClock.now
    let cpuStart = cpuTime()
    try body()
    let elapsed = ContinuousClock.now - start
    return (elapsed.inSeconds, cpuTime() - cpuStart)
}

func secondsAsync(_ body: () async throws -> Void) async rethrows -> (wall: Double, cpu: Double) {
    let start = ContinuousClock.now
    let cpuStart = cpuTime()
    try await body()
    let elapsed = ContinuousClock.now - start
    return (elapsed.inSeconds, cpuTime() - cpuStart)
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }

var options = parseOptions()
if options.files < 0 { options.files = options.hosts }
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let recorded = repository + "/recorded-sessions"
let bases = try await HostResultLoader.loadAll([
    "qemu-7.2=\(recorded)/qemu-7.2-x86_64-kvm.jsonl,\(recorded)/qemu-7.2-x86_64-tcg.jsonl",
    "qemu-10.0=\(recorded)/qemu-10.0-x86_64-kvm.jsonl,\(recorded)/qemu-10.0-x86_64-tcg.jsonl",
])
var random = SplitMix(state: options.seed)
// Hardware profiles: each one a set of lost features per QEMU; hosts pick one at random. --profiles 0 gives every
// host its own (the worst case: as many distinct blocker sets as hosts).
let profileCount = options.profiles == 0 ? options.hosts : options.profiles
let profiles = (0..<min(profileCount, options.hosts)).map { synthesize(bases[$0 % 2], index: $0, random: &random) }
let fleet = (0..<options.hosts).map { index -> HostResult in
    var host = options.profiles == 0 ? profiles[index] : profiles[Int.random(in: 0..<profiles.count, using: &random)]
    host.label = "host\(index)"
    // Fresh arrays, as hosts read from separate files have: no host shares storage with another.
    for a in host.report.accelerators.indices {
        host.report.accelerators[a].models = host.report.accelerators[a].models.map { model in
            var copy = model
            copy.enabled = model.enabled.map { $0.map { $0 } }
            copy.dropped = model.dropped.map { $0.map { $0 } }
            copy.blockers = model.blockers.map { $0.map { $0 } }
            return copy
        }
        let migratable = (host.report.accelerators[a].hostModel?.migratable ?? []).map { $0 }
        host.report.accelerators[a].hostModel?.migratable = migratable
    }
    return host
}
let models = Set(fleet.prefix(2).flatMap { $0.report.accelerators.flatMap { $0.models.map(\.name) } }).count
print("baseline-bench: \(options.hosts) synthetic hosts from recorded-sessions (QEMU 7.2 and 10.0, kvm and tcg; \(models) model names), \(options.profiles == 0 ? "every host its own hardware" : "\(profiles.count) hardware profiles"), seed \(options.seed), \(ProcessInfo.processInfo.activeProcessorCount) cores")

var sizes = [options.hosts / 8, options.hosts / 4, options.hosts / 2, options.hosts].filter { $0 > 0 }
sizes = Array(Set(sizes)).sorted()
for size in sizes {
    let hosts = Array(fleet.prefix(size))
    var report: BaselineReport?
    // The peer implements the usable-as-is rule: compare that one.
    let ours = try seconds { report = try FleetBaseline.compute(hosts: hosts, rule: .usableAsIs) }
    var peer: [StringSetBaseline.Result] = []
    if options.noPeer {
        print("fleet-baseline  hosts=\(size)  wall \(format(ours.wall)) s  cpu \(format(ours.cpu)) s  (\(format(ours.cpu / Double(size) * 1e6)) µs cpu/host)")
        continue
    }
    let theirs = seconds { peer = ["kvm", "tcg"].map { StringSetBaseline.compute(hosts, accelerator: $0) } }
    for (accelerator, expected) in zip(report!.accelerators, peer) {
        let got = StringSetBaseline.Result(usableEverywhere: accelerator.models.filter(\.usableEverywhere).map(\.name),
                                           shared: Set(accelerator.shared),
                                           baseModel: accelerator.baseline?.model)
        if got != expected {
            print("MISMATCH (\(accelerator.name), \(size) hosts): bitsets \(got.baseModel ?? "-") \(got.usableEverywhere.count) \(got.shared.count), string sets \(expected.baseModel ?? "-") \(expected.usableEverywhere.count) \(expected.shared.count)")
            exit(1)
        }
    }
    print("fleet-baseline  hosts=\(size)  wall \(format(ours.wall)) s  cpu \(format(ours.cpu)) s  (\(format(ours.cpu / Double(size) * 1e6)) µs cpu/host)")
    print("string-sets     hosts=\(size)  wall \(format(theirs.wall)) s  cpu \(format(theirs.cpu)) s  (\(format(theirs.cpu / ours.cpu))× the bitset cpu time)")
}

// End to end from files: M `probe --json` files (the first M hosts; hosts of one profile write identical files, as
// identical hosts do), read with HostResultLoader.loadAll (all cores; identical files parsed once), then the baseline.
if options.files == 0 { exit(0) }
// --keep-files DIR writes them there and leaves them (to time `qmp-probe baseline DIR/*.json` itself).
let directory = options.directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("baseline-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: directory) } }
var paths: [String] = []
var bytes = 0
var distinct = Set<Int>()
for host in fleet.prefix(options.files) {
    let path = "\(directory)/\(host.label).json"
    let text = host.report.json.serializedBytes()
    bytes += text.count
    distinct.insert(text.hashValue)
    FileManager.default.createFile(atPath: path, contents: Data(text))
    paths.append(path)
}
var loaded: [HostResult] = []
let loadTime = try await secondsAsync { loaded = try await HostResultLoader.loadAll(paths) }
precondition(loaded.count == paths.count)
var endToEnd: BaselineReport?
let computeTime = try seconds { endToEnd = try FleetBaseline.compute(hosts: loaded) }
precondition(endToEnd != nil)
print("load-json       files=\(paths.count)  distinct=\(distinct.count)  \(format(Double(bytes) / 1e6)) MB  wall \(format(loadTime.wall)) s  cpu \(format(loadTime.cpu)) s  (\(format(loadTime.cpu / Double(paths.count) * 1000)) ms cpu/file)")
print("end-to-end      files=\(paths.count)  wall \(format(loadTime.wall + computeTime.wall)) s  cpu \(format(loadTime.cpu + computeTime.cpu)) s  (load \(format(loadTime.wall)) s + baseline \(format(computeTime.wall)) s)")
