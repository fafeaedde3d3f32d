import Foundation

/// The one way dissect writes JSON (model.json, train-log.jsonl, the
/// analysis documents, summary.json, `evaluate --json`).
///
/// JSON has no NaN or infinity, and `JSONEncoder` throws on them. Here every
/// non-finite `Double` or `Float` is written as `null` instead: a figure that
/// is undefined (a loss that diverged, a ratio over zero tokens) reads as
/// "no value" and the file stays valid JSON. The values are replaced on their
/// way into the encoder (`FiniteEncoder` wraps the encoder's containers), so
/// no non-finite number ever reaches it.
public enum JSONOutput {
    public enum Style: Sendable {
        /// Indented, keys sorted, with a final newline (model.json and the documents).
        case pretty
        /// One compact line with a final newline (for `.jsonl` logs).
        case line
    }

    /// Encodes `value` in `style`, writing `null` for every non-finite number.
    /// - Parameter snakeCaseKeys: convert camelCase property names to snake_case.
    public static func encode<Value: Encodable>(_ value: Value, style: Style = .pretty, snakeCaseKeys: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        switch style {
        case .pretty: encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        case .line: encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        }
        if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
        var data = try encoder.encode(FiniteNumbers(value))
        data.append(0x0A)
        return data
    }

    /// `encode` as a String.
    public static func string<Value: Encodable>(_ value: Value, style: Style = .pretty, snakeCaseKeys: Bool = false) throws -> String {
        String(decoding: try encode(value, style: style, snakeCaseKeys: snakeCaseKeys), as: UTF8.self)
    }
}

/// Encodes the wrapped value through `FiniteEncoder`.
struct FiniteNumbers<Wrapped: Encodable>: Encodable {
    var wrapped: Wrapped
    init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    func encode(to encoder: Encoder) throws {
        // Numbers that arrive here directly (not inside a container) are checked too.
        if let number = wrapped as? Double, !number.isFinite {
            var container = encoder.singleValueContainer()
            try container.encodeNil()
            return
        }
        if let number = wrapped as? Float, !number.isFinite {
            var container = encoder.singleValueContainer()
            try container.encodeNil()
            return
        }
        try wrapped.encode(to: FiniteEncoder(base: encoder))
    }
}

/// A `[String: Value]` dictionary. It is handed to the encoder still as a
/// String-keyed dictionary (its values wrapped), because JSONEncoder writes
/// such keys as they are, never through a key strategy (label names like
/// `B-PER` must not become `b-per`).
protocol StringKeyedDictionary {
    var finiteValues: any Encodable { get }
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Encodable {
    var finiteValues: any Encodable { mapValues { FiniteNumbers($0) } }
}

/// An encoder that passes everything to `base` except non-finite Doubles and
/// Floats, which become nil (`null`). Nested values are wrapped again, so the
/// rule holds at every depth.
struct FiniteEncoder: Encoder {
    let base: Encoder
    var codingPath: [CodingKey] { base.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { base.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(FiniteKeyedContainer(base: base.container(keyedBy: type)))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        FiniteUnkeyedContainer(base: base.unkeyedContainer())
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        FiniteSingleValueContainer(base: base.singleValueContainer())
    }
}

struct FiniteKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var base: KeyedEncodingContainer<Key>
    var codingPath: [CodingKey] { base.codingPath }

    mutating func encodeNil(forKey key: Key) throws { try base.encodeNil(forKey: key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        if value.isFinite { try base.encode(value, forKey: key) } else { try base.encodeNil(forKey: key) }
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        if value.isFinite { try base.encode(value, forKey: key) } else { try base.encodeNil(forKey: key) }
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try base.encode(value, forKey: key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        // Strings and integers cannot be non-finite: hand them over as they are
        // (the encoder's fast path; a vocabulary has tens of thousands of words).
        if let text = value as? String { try base.encode(text, forKey: key) }
        else if let number = value as? Int { try base.encode(number, forKey: key) }
        else if let dictionary = value as? any StringKeyedDictionary { try base.encode(dictionary.finiteValues, forKey: key) }
        else { try base.encode(FiniteNumbers(value), forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(FiniteKeyedContainer<NestedKey>(base: base.nestedContainer(keyedBy: keyType, forKey: key)))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        FiniteUnkeyedContainer(base: base.nestedUnkeyedContainer(forKey: key))
    }
    mutating func superEncoder() -> Encoder { FiniteEncoder(base: base.superEncoder()) }
    mutating func superEncoder(forKey key: Key) -> Encoder { FiniteEncoder(base: base.superEncoder(forKey: key)) }
}

struct FiniteUnkeyedContainer: UnkeyedEncodingContainer {
    var base: UnkeyedEncodingContainer
    var codingPath: [CodingKey] { base.codingPath }
    var count: Int { base.count }

    mutating func encodeNil() throws { try base.encodeNil() }
    mutating func encode(_ value: Bool) throws { try base.encode(value) }
    mutating func encode(_ value: String) throws { try base.encode(value) }
    mutating func encode(_ value: Double) throws {
        if value.isFinite { try base.encode(value) } else { try base.encodeNil() }
    }
    mutating func encode(_ value: Float) throws {
        if value.isFinite { try base.encode(value) } else { try base.encodeNil() }
    }
    mutating func encode(_ value: Int) throws { try base.encode(value) }
    mutating func encode(_ value: Int8) throws { try base.encode(value) }
    mutating func encode(_ value: Int16) throws { try base.encode(value) }
    mutating func encode(_ value: Int32) throws { try base.encode(value) }
    mutating func encode(_ value: Int64) throws { try base.encode(value) }
    mutating func encode(_ value: UInt) throws { try base.encode(value) }
    mutating func encode(_ value: UInt8) throws { try base.encode(value) }
    mutating func encode(_ value: UInt16) throws { try base.encode(value) }
    mutating func encode(_ value: UInt32) throws { try base.encode(value) }
    mutating func encode(_ value: UInt64) throws { try base.encode(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if let text = value as? String { try base.encode(text) }
        else if let number = value as? Int { try base.encode(number) }
        else if let dictionary = value as? any StringKeyedDictionary { try base.encode(dictionary.finiteValues) }
        else { try base.encode(FiniteNumbers(value)) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(FiniteKeyedContainer<NestedKey>(base: base.nestedContainer(keyedBy: keyType)))
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        FiniteUnkeyedContainer(base: base.nestedUnkeyedContainer())
    }
    mutating func superEncoder() -> Encoder { FiniteEncoder(base: base.superEncoder()) }
}

struct FiniteSingleValueContainer: SingleValueEncodingContainer {
    var base: SingleValueEncodingContainer
    var codingPath: [CodingKey] { base.codingPath }

    mutating func encodeNil() throws { try base.encodeNil() }
    mutating func encode(_ value: Bool) throws { try base.encode(value) }
    mutating func encode(_ value: String) throws { try base.encode(value) }
    mutating func encode(_ value: Double) throws {
        if value.isFinite { try base.encode(value) } else { try base.encodeNil() }
    }
    mutating func encode(_ value: Float) throws {
        if value.isFinite { try base.encode(value) } else { try base.encodeNil() }
    }
    mutating func encode(_ value: Int) throws { try base.encode(value) }
    mutating func encode(_ value: Int8) throws { try base.encode(value) }
    mutating func encode(_ value: Int16) throws { try base.encode(value) }
    mutating func encode(_ value: Int32) throws { try base.encode(value) }
    mutating func encode(_ value: Int64) throws { try base.encode(value) }
    mutating func encode(_ value: UInt) throws { try base.encode(value) }
    mutating func encode(_ value: UInt8) throws { try base.encode(value) }
    mutating func encode(_ value: UInt16) throws { try base.encode(value) }
    mutating func encode(_ value: UInt32) throws { try base.encode(value) }
    mutating func encode(_ value: UInt64) throws { try base.encode(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if let text = value as? String { try base.encode(text) }
        else if let number = value as? Int { try base.encode(number) }
        else if let dictionary = value as? any StringKeyedDictionary { try base.encode(dictionary.finiteValues) }
        else { try base.encode(FiniteNumbers(value)) }
    }
}
