import ArgumentParser
import Foundation
import Logging
import QMP

/// `qmp-probe exec`: runs one QMP command on a running monitor (or a recording) and prints its return value as JSON.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one QMP command and print its return value as JSON.",
        discussion: """
            Asks a running monitor (--socket PATH, --connect HOST:PORT) or a recording (--replay FILE); it does not \
            start QEMU. Exit status: 0 on success; 2 when the command fails (QEMU's error class and description go \
            to stderr), the monitor cannot be reached, or the reply does not come within the timeout.
            """
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "Record the session to FILE (JSON Lines, secrets redacted).")
    var record: String?

    @Flag(name: .long, help: "Log the wire traffic on stderr.")
    var trace = false

    @Argument(help: "The command name, e.g. query-version.")
    var command: String

    @Argument(help: "The command's arguments as a JSON object.")
    var arguments: String?

    func validate() throws {
        try source.reject([.qemu], by: "exec", because: "it asks a running monitor (--socket, --connect) or a recording (--replay)")
        if !source.talksToRunningQEMUOrRecording {
            throw ValidationError("give one of --socket PATH, --connect HOST:PORT or --replay FILE")
        }
    }

    func run() async throws {
        var parsedArguments: JSONObject?
        if let arguments {
            do {
                guard case .object(let object) = try JSON.parse(arguments) else {
                    throw CommandFailure("the arguments must be a JSON object")
                }
                parsedArguments = object
            } catch let error as JSONParseError {
                throw CommandFailure("the arguments are not valid JSON: \(error)")
            }
        }
        var configuration = QMPClient.Configuration()
        configuration.connectTimeout = source.timeoutDuration
        configuration.commandTimeout = source.timeoutDuration
        configuration.logger = CLILogging.logger(trace: trace)
        let recorder = try record.map { try SessionRecorder(path: $0, header: SessionHeader.forThisHost()) }
        configuration.recorder = recorder
        let client = QMPClient(configuration: configuration)
        do {
            switch source.source {
            case .monitor(let endpoint): try await client.connect(to: endpoint)
            case .replay(let path, let mode):
                let sessions = try RecordingLoader.load(path: path)
                guard let session = sessions.first else { throw CommandFailure("\(path): no session") }
                try await client.connect(using: ReplayTransport(session: session, mode: mode))
            case .launch: throw CommandFailure("exec does not start QEMU")  // refused by validate()
            }
            let value = try await client.execute(QMPCommand(command, arguments: parsedArguments))
            await client.close()
            try recorder?.finish()
            print(value.serialized())
        } catch {
            await client.close()
            try? recorder?.finish()
            throw error
        }
    }
}
