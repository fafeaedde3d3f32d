import Foundation

/// Reading a JSON file a user gives: bounded in size before it is read, and every
/// decoding failure described by where it is (`tensors.recurrent is missing`).
public enum JSONInput {
    /// The bytes of the regular file at `path`, refused above `limit` bytes (a device or a pipe has no size to bound).
    public static func read(path: String, limit: Int, fix: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DissectError(.input, file: path, problem: "no such file", fix: fix)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard (attributes?[.type] as? FileAttributeType) == .typeRegular else {
            throw DissectError(.input, file: path, problem: "is not a regular file", fix: fix)
        }
        if let size = attributes?[.size] as? Int, size > limit {
            throw DissectError(.input, file: path, problem: "is \(size) bytes, above the \(limit) dissect reads", fix: fix)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DissectError(.input, file: path, problem: "cannot be read", fix: "check its permissions")
        }
        return data
    }

    /// `type` from `data`; a failure is one error naming `path`, `what` the file should be and where it went wrong.
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data, path: String, what: String, fix: String) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw DissectError(.input, file: path, problem: "is not a valid \(what): \(describe(error))", fix: fix)
        }
    }

    /// Where a decoding failure is, as a key path: `series[2].x has the wrong type`.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "it is not JSON" : "\(path(context.codingPath)) is not valid"
        @unknown default: return "it cannot be read"
        }
    }
}
