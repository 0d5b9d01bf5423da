import Foundation

/// Reads files whole and fingerprints their bytes, so that identical host results (hosts of the same hardware
/// and QEMU write byte-identical `probe --json` reports) are parsed once however many hosts share them.
enum FileContents {
    /// A 128-bit fingerprint of a file's bytes and their length: two independent multiply-mix lanes over 8-byte
    /// words. Not cryptographic: callers confirm a match byte for byte before relying on it.
    struct Fingerprint: Hashable, Sendable {
        var length: Int
        var first: UInt64
        var second: UInt64
    }

    /// The whole file, or an error naming it.
    /// - Throws: ``ProberError/invalidInput(_:)`` when it cannot be opened or read.
    static func bytes(of path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw unreadable(path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw unreadable(path) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw ProberError.invalidInput("\(path): cannot be read (not a regular file)")
        }
        // The size `fstat` gave, read straight into the array; then on to the end (a file that grew meanwhile, or a
        // /proc file, which says 0 bytes).
        let size = Int(status.st_size)
        var failed = false
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            while initialized < size {
                let count = read(descriptor, buffer.baseAddress! + initialized, size - initialized)
                if count < 0, errno == EINTR { continue }
                if count <= 0 { failed = count < 0; return }
                initialized += count
            }
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !failed {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { failed = count < 0; break }
            bytes += chunk[..<count]
        }
        if failed { throw unreadable(path) }
        return bytes
    }

    private static func unreadable(_ path: String) -> ProberError {
        .invalidInput("\(path): cannot be read (\(String(cString: strerror(errno))))")
    }

    /// The fingerprint of `bytes`.
    static func fingerprint(_ bytes: [UInt8]) -> Fingerprint {
        bytes.withUnsafeBytes { buffer in
            var first: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(buffer.count)
            var second: UInt64 = 0xC2B2_AE3D_27D4_EB4F &+ UInt64(buffer.count)
            let words = buffer.count / 8
            for word in 0..<words {
                let value = buffer.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
                first = mix(first ^ value, 0xBF58_476D_1CE4_E5B9)
                second = mix(second &+ value, 0x94D0_49BB_1331_11EB)
            }
            var tail: UInt64 = 0
            for position in (words * 8)..<buffer.count {
                tail = tail << 8 | UInt64(buffer[position])
            }
            first = mix(first ^ tail, 0xBF58_476D_1CE4_E5B9)
            second = mix(second &+ tail, 0x94D0_49BB_1331_11EB)
            return Fingerprint(length: buffer.count, first: first, second: second)
        }
    }

    /// Whether two files' bytes are the same (memcmp: the generic `==` of arrays compares byte by byte).
    static func same(_ a: [[UInt8]], _ b: [[UInt8]]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return false }
            let equal = x.withUnsafeBytes { xs in
                y.withUnsafeBytes { ys in xs.count == 0 || memcmp(xs.baseAddress!, ys.baseAddress!, xs.count) == 0 }
            }
            if !equal { return false }
        }
        return true
    }

    @inline(__always)
    private static func mix(_ value: UInt64, _ multiplier: UInt64) -> UInt64 {
        let product = value.multipliedFullWidth(by: multiplier)
        return product.high ^ product.low
    }
}
