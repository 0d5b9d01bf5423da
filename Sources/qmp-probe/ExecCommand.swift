import ArgumentParser
import Foundation
import Logging
import QMP

/// `qmp-probe exec`: runs one QMP command on a running monitor and prints its return value as JSON.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one QMP command and print its return value as JSON.",
        discussion: """
            Exit status: 0 on success; 2 when the command fails (QEMU's error class and description go to \
            stderr), the monitor cannot be reached, or the reply does not come within the timeout.
            """
    )

    @Option(name: .long, help: "The monitor's Unix socket path.")
    var socket: String?

    @Option(name: .long, help: "The monitor's TCP address, HOST:PORT.")
    var connect: String?

    @Option(name: .long, help: "Seconds to wait for the connection and for the reply.")
    var timeout: Double = 30

    @Option(name: .long, help: "Record the session to FILE (JSON Lines, secrets redacted).")
    var record: String?

    @Flag(name: .long, help: "Log the wire traffic on stderr.")
    var trace = false

    @Argument(help: "The command name, e.g. query-version.")
    var command: String

    @Argument(help: "The command's arguments as a JSON object.")
    var arguments: String?

    func validate() throws {
        if (socket == nil) == (connect == nil) {
            throw ValidationError("give exactly one of --socket PATH or --connect HOST:PORT")
        }
        if let connect, QMPEndpoint.parseTCP(connect) == nil {
            throw ValidationError("--connect expects HOST:PORT, got '\(connect)'")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        var parsedArguments: JSONObject?
        if let arguments {
            do {
                guard case .object(let object) = try JSON.parse(arguments) else {
                    throw ProbeExit.fail("the arguments must be a JSON object")
                }
                parsedArguments = object
            } catch let error as JSONParseError {
                throw ProbeExit.fail("the arguments are not valid JSON: \(error)")
            }
        }
        let endpoint = socket.map { QMPEndpoint.unix(path: $0) } ?? QMPEndpoint.parseTCP(connect!)!
        var configuration = QMPClient.Configuration()
        configuration.connectTimeout = .milliseconds(Int64(timeout * 1000))
        configuration.commandTimeout = .milliseconds(Int64(timeout * 1000))
        configuration.logger = CLILogging.logger(trace: trace)
        let recorder: SessionRecorder?
        do {
            recorder = try record.map { try SessionRecorder(path: $0, header: SessionHeader.forThisHost()) }
        } catch let error as QMPError {
            throw ProbeExit.fail(error.description)
        }
        configuration.recorder = recorder
        let client = QMPClient(configuration: configuration)
        do {
            try await client.connect(to: endpoint)
            let value = try await client.execute(QMPCommand(command, arguments: parsedArguments))
            await client.close()
            try recorder?.finish()
            print(value.serialized())
        } catch let error as QMPError {
            await client.close()
            try? recorder?.finish()
            throw ProbeExit.fail(error.description)
        }
    }
}
