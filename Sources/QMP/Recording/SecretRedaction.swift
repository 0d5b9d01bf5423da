/// Keeps secrets out of recordings: values of known secret-bearing arguments become ``marker``.
public enum SecretRedaction {
    /// What a redacted value is replaced with.
    public static let marker = "<redacted>"

    /// Argument names whose values are secrets wherever they appear
    /// (`set_password`, `change-vnc-password`, `expire_password`, `block_passwd`, key material, ...).
    public static let secretKeys: Set<String> = ["password", "new-password", "passphrase", "secret", "key", "iv",
                                                 "new-secret", "psk", "private-key"]

    /// QOM types whose `data` property is a secret (`object-add` of a `secret`).
    public static let secretObjectTypes: Set<String> = ["secret", "secret_keyring"]

    /// Cheap pre-check on the wire bytes: whether the message may hold a secret at all.
    public static func mayContainSecret(_ bytes: some Collection<UInt8>) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.contains("pass") || text.contains("secret") || text.contains("\"key\"") || text.contains("\"iv\"")
            || text.contains("psk") || text.contains("private-key")
    }

    /// The message with every secret value replaced by ``marker``.
    public static func redact(_ message: JSON) -> JSON {
        guard case .object(var object) = message else { return message }
        if let arguments = object["arguments"] {
            object["arguments"] = redactValue(arguments)
        }
        return .object(object)
    }

    private static func redactValue(_ value: JSON) -> JSON {
        switch value {
        case .object(let object):
            let isSecretObject = (object["qom-type"]?.stringValue).map(secretObjectTypes.contains) ?? false
            var result = JSONObject()
            result.reserveCapacity(object.count)
            for (key, member) in object {
                if secretKeys.contains(key), !member.isContainer {
                    result[key] = .string(marker)
                } else if isSecretObject, key == "data" {
                    result[key] = .string(marker)
                } else {
                    result[key] = redactValue(member)
                }
            }
            return .object(result)
        case .array(let array):
            return .array(array.map(redactValue))
        default:
            return value
        }
    }
}

extension JSON {
    /// Whether this is an array or an object.
    var isContainer: Bool {
        switch self {
        case .array, .object: return true
        default: return false
        }
    }
}
