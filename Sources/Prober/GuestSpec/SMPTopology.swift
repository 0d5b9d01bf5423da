/// A guest's vCPU topology in QEMU's `-smp` syntax:
/// `[cpus=]N[,maxcpus=M][,drawers=..][,books=..][,sockets=..][,dies=..][,clusters=..][,modules=..][,cores=..][,threads=..]`.
///
/// Kept as given (QEMU fills in what is left out, and rejects what does not add up, with its own message); the
/// derived counts say what QEMU computes for the common cases.
public struct SMPTopology: Sendable, Equatable, CustomStringConvertible {
    /// The members QEMU's `-smp` accepts, in the order they are written.
    package static let keys = ["cpus", "maxcpus", "drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads"]

    /// The values given, by key (`cpus` for the leading number).
    package private(set) var values: [String: Int]

    /// One vCPU (QEMU's default).
    package static let single = SMPTopology(values: ["cpus": 1])

    /// A topology from its values (`cpus`, `sockets`, `dies`, `clusters`, `cores`, `threads`, `maxcpus`, ...).
    package init(values: [String: Int]) {
        self.values = values
    }

    /// Parses QEMU's `-smp` syntax.
    /// - Throws: ``ProberError/invalidInput(_:)`` for an unknown member, a value that is not a positive number, or
    ///   a member given twice.
    public init(parsing text: String) throws {
        var values: [String: Int] = [:]
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for (index, part) in parts.enumerated() {
            let key: String, value: Substring
            if let equals = part.firstIndex(of: "=") {
                key = String(part[..<equals])
                value = part[part.index(after: equals)...]
            } else if index == 0 {
                key = "cpus"
                value = Substring(part)
            } else {
                throw ProberError.invalidInput("--smp '\(text)': '\(part)' is not KEY=N (keys: \(Self.keys.joined(separator: ", ")))")
            }
            guard Self.keys.contains(key) else {
                throw ProberError.invalidInput("--smp '\(text)': unknown member '\(key)' (QEMU's -smp takes \(Self.keys.joined(separator: ", ")))")
            }
            guard let number = Int(value), number > 0 else {
                throw ProberError.invalidInput("--smp '\(text)': \(key) must be a positive number, not '\(value)'")
            }
            guard values[key] == nil else { throw ProberError.invalidInput("--smp '\(text)': \(key) given twice") }
            values[key] = number
        }
        guard !values.isEmpty else { throw ProberError.invalidInput("--smp '\(text)': empty") }
        self.values = values
    }

    /// The number of vCPUs at start: `cpus`, or the product of the topology's members when `cpus` is not given.
    package var cpus: Int {
        if let cpus = values["cpus"] { return cpus }
        return ["drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads"].reduce(1) { $0 * (values[$1] ?? 1) }
    }

    /// The `-smp` argument: the members in QEMU's order (`2,sockets=1,cores=1,threads=2`).
    public var description: String {
        var parts: [String] = []
        if let cpus = values["cpus"] { parts.append(String(cpus)) }
        for key in Self.keys.dropFirst() { if let value = values[key] { parts.append("\(key)=\(value)") } }
        return parts.joined(separator: ",")
    }

    /// The topology as a JSON-ready dictionary (every member given, and `cpus` always).
    package var members: [(key: String, value: Int)] {
        var result: [(key: String, value: Int)] = [("cpus", cpus)]
        for key in Self.keys.dropFirst() { if let value = values[key] { result.append((key, value)) } }
        return result
    }
}
