import ArgumentParser
import Foundation
import QMP

/// The options of every command that talks to QEMU (`probe`, `cpu`, `exec`, `qemu-compare`, `qemu-baseline`): where
/// QEMU is (a binary started here, a running monitor, or a recording) and how long to wait for it. One spelling and one
/// default everywhere; a command that cannot use one of them says so (``reject(_:by:because:)``, exit status 2).
struct SourceOptions: ParsableArguments {
    /// `--timeout`'s default, in seconds, for every command.
    static let defaultTimeout: Double = 30

    @Option(name: .long, help: "The QEMU binary to start (default: qemu-system-<host arch> on PATH; qemu-system-s390x for qemu-compare and qemu-baseline).")
    var qemu: String?

    @Option(name: .long, help: "Talk to a running monitor at this Unix socket instead of starting QEMU.")
    var socket: String?

    @Option(name: .long, help: "Talk to a running monitor instead of starting QEMU: HOST:PORT, or a Unix socket (unix:PATH, or a path with a '/').")
    var connect: String?

    @Option(name: .long, help: "Replay a recording (ours or libvirt's .replies) instead of talking to QEMU.")
    var replay: String?

    @Option(name: .long, help: "Replay mode: matching (by command) or strict (in recorded order).")
    var replayMode: String = ReplayTransport.Mode.matching.rawValue

    @Option(name: .long, help: "Seconds to wait for the monitor's greeting and for each QMP reply (a stopped or hung QEMU fails after this).")
    var timeout: Double = SourceOptions.defaultTimeout

    /// One of the options, for ``reject(_:by:because:)``.
    enum Name: String, CaseIterable {
        case qemu = "--qemu", socket = "--socket", connect = "--connect", replay = "--replay"
    }

    /// Where QEMU is.
    enum Source {
        /// Start QEMU (this binary, or the command's default).
        case launch(binary: String?)
        /// A running monitor.
        case monitor(QMPEndpoint)
        /// A recording, replayed.
        case replay(path: String, mode: ReplayTransport.Mode)
    }

    /// Where QEMU is, as the options say (validated: at most one of them).
    var source: Source {
        if let socket { return .monitor(.unix(path: socket)) }
        if let connect, let endpoint = Self.endpoint(connect) { return .monitor(endpoint) }
        if let replay { return .replay(path: replay, mode: ReplayTransport.Mode(rawValue: replayMode) ?? .matching) }
        return .launch(binary: qemu)
    }

    /// Whether the options name a running monitor or a recording (no QEMU is started for the source).
    var talksToRunningQEMUOrRecording: Bool { given.contains { $0 != .qemu } }

    /// `--timeout` as a duration.
    var timeoutDuration: Duration { .milliseconds(Int64(timeout * 1000)) }

    /// The options given, in the order of ``Name``.
    var given: [Name] {
        Name.allCases.filter { option in
            switch option {
            case .qemu: return qemu != nil
            case .socket: return socket != nil
            case .connect: return connect != nil
            case .replay: return replay != nil
            }
        }
    }

    /// `--connect`'s argument as an endpoint: `unix:PATH` or a path with a `/` is a Unix socket, else `HOST:PORT`.
    static func endpoint(_ text: String) -> QMPEndpoint? {
        if text.hasPrefix("unix:") { return text.count > 5 ? .unix(path: String(text.dropFirst(5))) : nil }
        if text.contains("/") { return .unix(path: text) }
        return QMPEndpoint.parseTCP(text)
    }

    func validate() throws {
        let monitors = given.filter { $0 != .qemu }
        if monitors.count > 1 {
            throw ValidationError("give at most one of --socket, --connect, --replay")
        }
        if qemu != nil, let other = monitors.first {
            throw ValidationError("--qemu starts QEMU: it does not go with \(other.rawValue)")
        }
        guard ReplayTransport.Mode(rawValue: replayMode) != nil else { throw ValidationError("--replay-mode must be matching or strict") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let connect, Self.endpoint(connect) == nil {
            throw ValidationError("--connect expects HOST:PORT or a Unix socket (unix:PATH, or a path with a '/'), got '\(connect)'")
        }
    }

    /// Refuses the first of `options` given: `command` cannot use it, for `reason`.
    /// - Throws: `ValidationError` (exit status 2, with the usage) naming the option, the command and the reason.
    func reject(_ options: [Name], by command: String, because reason: String) throws {
        if let option = given.first(where: options.contains) {
            throw ValidationError("\(command) does not take \(option.rawValue): \(reason)")
        }
    }
}
