/// Where a QMP monitor listens.
public enum QMPEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// A Unix domain socket path.
    case unix(path: String)
    /// A TCP host and port.
    case tcp(host: String, port: Int)
    /// A socket that is already connected (e.g. one end of a socketpair whose other end a QEMU holds).
    /// The client takes ownership of the descriptor.
    case connectedSocket(descriptor: Int32)

    /// Parses `HOST:PORT` (IPv6 hosts in brackets: `[::1]:4444`).
    public static func parseTCP(_ text: String) -> QMPEndpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        case .connectedSocket(let descriptor): return "fd:\(descriptor)"
        }
    }
}
