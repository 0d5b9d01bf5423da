import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe probe`: which CPU models are usable and which features QEMU adds or drops, per accelerator.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe QEMU: usable CPU models and the features QEMU adds or drops, per accelerator.",
        discussion: """
            With no options, starts the local qemu-system-<host arch> itself (-machine none, paused, no devices), \
            once with KVM when /dev/kvm is usable and once with TCG, side by side. Exit status: 0 on success, \
            2 on error (no QEMU, QEMU failed to start, monitor unreachable, bad recording). \
            Results of such live probes are cached in $XDG_CACHE_HOME/qmp-probe (or ~/.cache/qmp-probe), keyed by \
            the QEMU binary (path, size, ctime), the kernel, access to /dev/kvm, the host CPU and its microcode, \
            this prober's version and the options; --no-cache bypasses the cache.
            """
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "Accelerators to probe: kvm, tcg or all (default: all usable here).")
    var accel: String = "all"

    @Option(name: .long, help: "Record the session(s) to FILE (FILE-kvm.EXT and FILE-tcg.EXT for two accelerators).")
    var record: String?

    @Option(name: .long, help: "Take added/removed against another QEMU's result (e.g. an older one), [LABEL=]PATH[,PATH...] as for compare: a probe --json result, a recording or a libvirt .replies file.")
    var against: String?

    @Flag(name: .long, help: "Print the JSON report (schemas/probe-report.schema.json) instead of the summary.")
    var json = false

    @Option(name: .long, help: "Print only this host's CPU as a platform's configuration (the host model as libvirt's baseline of one host names it) or its KubeVirt node labels: \(PlatformFormat.names).")
    var format: String?

    @Flag(name: .long, help: "List the enabled features of every model in the summary.")
    var verbose = false

    @Option(name: .long, help: "QEMU processes per accelerator, sharing the per-model expansions (default: one per core in all).")
    var workers: Int?

    @Flag(name: .long, help: "Neither read nor write the cache of live probe results.")
    var noCache = false

    @Flag(name: .long, help: "Print on stderr the time, CPU time and peak memory of qmp-probe and of the QEMU it started, and when a live probe's moments came (QEMU started, greeting, last reply, report, output, QEMU stopped).")
    var stats = false

    func validate() throws {
        guard ["kvm", "tcg", "all"].contains(accel) else { throw ValidationError("--accel must be kvm, tcg or all") }
        if let workers, workers < 1 || workers > 16 { throw ValidationError("--workers must be between 1 and 16") }
        if let format, PlatformFormat(rawValue: format) == nil { throw ValidationError("--format must be one of \(PlatformFormat.names)") }
        if format != nil && json { throw ValidationError("give at most one of --format and --json") }
    }

    func run() async throws {
        // Two malloc arenas instead of one per thread (up to 8 per core): the probe's threads (event loop, task pool)
        // allocate a lot in bursts, and per-thread arenas keep more memory resident (about 2.5 MB at the peak).
        Self.limitMallocArenas(2)
        let started = ContinuousClock.now
        if stats { ProbeTimeline.enable() }
        defer { if stats { printStats(since: started) } }
        let presentation: ProbePresentation = json ? .json : (verbose ? .verbose : .text)
        let probeSource: ProbeSource
        var cached: CachedProbe?
        switch source.source {
        case .monitor(let endpoint): probeSource = .monitor(endpoint)
        case .replay(let path, let mode): probeSource = .replay(path: path, mode: mode)
        case .launch(let qemu):
            let accelerators: [String]
            // KVM only runs the host's own target (qemu-system-s390x on an x86_64 host is TCG only).
            let target = QEMUInstance.target(ofBinary: qemu ?? "qemu-system-\(QEMUBinary.hostArch)")
            switch accel {
            case "all": accelerators = target.defaultAccelerators
            case "kvm":
                guard QEMUBinary.kvmUsable else { throw CommandFailure("--accel kvm: /dev/kvm is not usable here") }
                guard target.runsUnderKVMHere else {
                    throw CommandFailure("--accel kvm: KVM on this \(QEMUBinary.hostArch) host cannot run \(target.label) guests")
                }
                accelerators = ["kvm"]
            default: accelerators = [accel]
            }
            probeSource = .launch(binary: qemu, accelerators: accelerators)
            if !noCache && record == nil {
                cached = try cache(binary: qemu, accelerators: accelerators)
            }
        }
        var runner = ProbeRunner(source: probeSource)
        runner.recordPath = record
        runner.workers = workers
        runner.timeout = source.timeoutDuration
        runner.logger = CLILogging.logger(trace: false)
        let progress = ProgressLine()
        if progress.enabled { runner.progress = { accelerator, done, total in progress.update("\(accelerator): \(done)/\(total) expansions") } }
        let against = self.against
        let configured = runner
        @Sendable func probe<T: Sendable>(_ finish: @Sendable (ProbeReport) -> T) async throws -> T {
            let references = against == nil ? [:] : try await ProbeReference.load(against!)
            return try await configured.run(against: references) { report in
                progress.clear()
                return finish(against.map { Self.noteReferences(in: report, against: $0, references: references) } ?? report)
            }
        }
        do {
            if let format = format.flatMap(PlatformFormat.init(rawValue:)) {
                // The configuration alone: this host as a fleet of one.
                let host = HostResult(label: "this host", paths: [], report: try await probe { $0 })
                try PlatformOutputOption.print(format, report: try FleetBaseline.compute(hosts: [host]), hosts: [host])
                return
            }
            let output: [UInt8]
            if let cached {
                output = try await cached.output(presentation, rendering: { try await probe($0) }).bytes
            } else {
                output = try await probe { presentation.render($0) }
            }
            ProbeCache.writeAll(1, output)
        } catch {
            progress.clear()
            throw error
        }
    }

    /// `report` with a note in every accelerator whose `--against` reference gave no `added`/`removed`: the file has
    /// no result for it (they are then against TCG in the same QEMU, or absent), or none of its models was expanded in
    /// both (libvirt's `.replies` expand only the host model). With the report's own `reference` (JSON) and its
    /// `against ...` line (text, when a model was compared), every output says which reference it used.
    static func noteReferences(in report: ProbeReport, against: String,
                               references: [String: ProbeReference.Reference]) -> ProbeReport {
        var report = report
        for index in report.accelerators.indices {
            let section = report.accelerators[index]
            if let reference = references[section.name] {
                guard !section.models.contains(where: { $0.added != nil }) else { continue }
                report.accelerators[index].notes.append(
                    "against \(reference.label): no model expanded in both, so no added/removed")
            } else {
                report.accelerators[index].notes.append(
                    "--against \(against) has no \(section.name) result: "
                        + (section.reference.map { "added/removed are against \($0)" } ?? "no added/removed"))
            }
        }
        return report
    }

    /// The cache of this live probe: its key (the binary located now, the accelerators and --against), or nil when
    /// the binary cannot be `stat`ed or the cache directory is unusable (said on stderr).
    /// - Throws: ``ProberError/qemuNotFound(_:)`` when there is no such QEMU.
    private func cache(binary explicit: String?, accelerators: [String]) throws -> CachedProbe? {
        let binary = try QEMUBinary.locate(explicit: explicit)
        var options = ["accel=" + accelerators.joined(separator: ",")]
        if let against {
            // Each file of `[LABEL=]PATH[,PATH...]` by its identity: a changed reference is a new key.
            let paths = (try? HostResultLoader.parseArgument(against).paths) ?? [against]
            options.append("against=" + paths.map { FileIdentity.of($0)?.summary ?? $0 }.joined(separator: ","))
        }
        guard let key = CacheKey(binary: binary, options: options),
              let directory = ProbeCache.defaultDirectory() else { return nil }
        do {
            return CachedProbe(cache: try ProbeCache(directory: directory), key: key)
        } catch {
            FileHandle.standardError.write(Data("qmp-probe: \(error)\n".utf8))
            return nil
        }
    }

    /// glibc's `mallopt(M_ARENA_MAX, count)` (not in Swift's Glibc module), when the C library has it.
    private static func limitMallocArenas(_ count: Int32) {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // RTLD_DEFAULT
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-8, count)  // M_ARENA_MAX
    }

    /// `--stats`: wall time, then CPU time and peak RSS of this process and of its reaped children (QEMU), and what
    /// this process's resident memory is made of at the end.
    private func printStats(since started: ContinuousClock.Instant) {
        var own = rusage()
        var children = rusage()
        getrusage(RUSAGE_SELF.rawValue, &own)
        getrusage(RUSAGE_CHILDREN.rawValue, &children)
        func cpu(_ usage: rusage) -> Double {
            Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let elapsed = ContinuousClock.now - started
        let wall = elapsed.inSeconds
        // What the resident memory is made of at the end: anonymous (heap, stacks) and file-backed (the binary, libraries).
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .map { $0.dropFirst(name.count + 1).filter { !$0.isWhitespace }.replacingOccurrences(of: "kB", with: "KB") } ?? "?"
        }
        let line = String(format: "qmp-probe stats: wall=%.4fs cpu=%.4fs peak_rss=%ldKB qemu_cpu=%.4fs qemu_peak_rss=%ldKB",
                          wall, cpu(own), own.ru_maxrss, cpu(children), children.ru_maxrss)
            + " rss_anon=\(field("RssAnon")) rss_file=\(field("RssFile"))\n"
        // When a live probe's moments came (from the start of this command): where a cold probe's time goes.
        let marks = ProbeTimeline.marks
        let timeline = marks.isEmpty ? "" : "qmp-probe timeline:" + marks.map { mark in
            String(format: " %@=%.1fms", mark.event, mark.at.inSeconds * 1000)
        }.joined() + "\n"
        FileHandle.standardError.write(Data((line + timeline).utf8))
    }
}
