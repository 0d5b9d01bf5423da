import Foundation

/// QEMU's `-cpu` option string split into its model and elements: the one reader of that syntax, which
/// ``CPUSpec`` interprets for the guest CPU check (``CPUSpec/init(parsing:)``) and the comparisons
/// (``CPUSpec/parse(_:)``), each with its own rules.
///
/// `MODEL[,+feat][,-feat][,name=value][,feat]...`: elements are separated by commas, surrounding blanks are
/// ignored, and a bare name is QEMU's legacy way to turn a feature on.
struct CPUOptionString {
    /// One element after the model.
    enum Element: Equatable {
        /// `+name`.
        case plus(String)
        /// `-name`.
        case minus(String)
        /// `name=value` (a feature switch when the value is on/off, else another CPU property).
        case assignment(String, String)
        /// A name alone.
        case bare(String)

        /// The element as written (after trimming).
        var text: String {
            switch self {
            case .plus(let name): return "+" + name
            case .minus(let name): return "-" + name
            case .assignment(let name, let value): return name + "=" + value
            case .bare(let name): return name
            }
        }

        /// The switch an on/off value means (`on|true|yes`, `off|false|no`, any case), nil for another value.
        static func switchValue(_ value: String) -> Bool? {
            switch value.lowercased() {
            case "on", "true", "yes": return true
            case "off", "false", "no": return false
            default: return nil
            }
        }
    }

    /// What is wrong with a `-cpu` string; callers word it for their option.
    enum Problem: Error, Equatable {
        /// The first element is empty, or is a switch or an assignment rather than a model name.
        case noModel
        /// An element between two commas is empty.
        case emptyElement
        /// `+`/`-` without a name, or a name containing `=`; `=value` without a name.
        case malformed(String)
    }

    /// The model name.
    let model: String
    /// The elements after the model, in order.
    let elements: [Element]

    /// Splits `text`.
    /// - Throws: ``Problem``.
    init(_ text: String) throws(Problem) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let model = parts.first, !model.isEmpty, !model.hasPrefix("+"), !model.hasPrefix("-"), !model.contains("=") else {
            throw .noModel
        }
        var elements: [Element] = []
        for part in parts.dropFirst() {
            guard !part.isEmpty else { throw .emptyElement }
            if part.hasPrefix("+") || part.hasPrefix("-") {
                let name = String(part.dropFirst())
                guard !name.isEmpty, !name.contains("=") else { throw .malformed(part) }
                elements.append(part.hasPrefix("+") ? .plus(name) : .minus(name))
            } else if let equals = part.firstIndex(of: "=") {
                let name = String(part[..<equals])
                guard !name.isEmpty else { throw .malformed(part) }
                elements.append(.assignment(name, String(part[part.index(after: equals)...])))
            } else {
                elements.append(.bare(part))
            }
        }
        self.model = model
        self.elements = elements
    }
}
