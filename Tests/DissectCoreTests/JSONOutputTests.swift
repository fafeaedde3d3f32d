import Foundation
import Testing
@testable import DissectCore

/// `JSONOutput`, the one JSON writer: non-finite numbers anywhere become
/// `null`, and finite documents are written exactly as `JSONEncoder` writes them.
@Suite struct JSONOutputTests {
    struct Inner: Encodable {
        var value: Float
        var values: [Double]
    }

    struct Document: Encodable {
        var loss: Double
        var lossPerToken: Double?
        var rate: Float
        var matrix: [[Double?]]
        var byLabel: [String: Double]
        var inner: Inner
        var nested: [String: [Inner]]
        var name: String
        var count: Int
        var finite: Double
    }

    static let sample = Document(
        loss: .nan, lossPerToken: .infinity, rate: -.infinity, matrix: [[1.5, nil, .nan], [-.infinity, 2]],
        byLabel: ["B-PER": .nan, "O": 0.25], inner: Inner(value: .nan, values: [.infinity, 3]),
        nested: ["x": [Inner(value: 1, values: [.nan])]], name: "nan", count: 3, finite: 0.1)

    /// Parses `data` as JSON, failing the test when it is not valid.
    func parse(_ data: Data) throws -> Any {
        try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    @Test func nonFiniteNumbersBecomeNull() throws {
        for style in [JSONOutput.Style.pretty, .line] {
            let data = try JSONOutput.encode(Self.sample, style: style)
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.lowercased().contains("inf"), "\(text)")
            #expect(text.hasSuffix("}\n"))
            let object = try #require(try parse(data) as? [String: Any])
            #expect(object["loss"] is NSNull)
            #expect(object["lossPerToken"] is NSNull, "a present optional that is not finite is null, not left out")
            #expect(object["rate"] is NSNull)
            let matrix = try #require(object["matrix"] as? [[Any]])
            #expect(matrix[0][0] as? Double == 1.5)
            #expect(matrix[0][1] is NSNull && matrix[0][2] is NSNull && matrix[1][0] is NSNull)
            #expect((object["byLabel"] as? [String: Any])?["B-PER"] is NSNull)
            #expect((object["byLabel"] as? [String: Any])?["O"] as? Double == 0.25)
            let inner = try #require(object["inner"] as? [String: Any])
            #expect(inner["value"] is NSNull)
            #expect((inner["values"] as? [Any])?.first is NSNull)
            let nested = try #require((object["nested"] as? [String: [[String: Any]]])?["x"]?.first)
            #expect((nested["values"] as? [Any])?.first is NSNull)
            #expect(object["name"] as? String == "nan", "strings are left alone")
            #expect(object["count"] as? Int == 3)
            #expect(object["finite"] as? Double == 0.1)
        }
        // A number on its own, and inside an optional.
        #expect(String(decoding: try JSONOutput.encode(Double.nan, style: .line), as: UTF8.self) == "null\n")
        #expect(String(decoding: try JSONOutput.encode([Optional(Double.infinity), nil, 1], style: .line), as: UTF8.self) == "[null,null,1]\n")
    }

    /// Plain JSONEncoder throws on the same document: the behaviour this replaces.
    @Test func plainEncoderWouldThrow() {
        #expect(throws: EncodingError.self) { try JSONEncoder().encode(Self.sample) }
    }

    struct Finite: Encodable {
        var epoch: Int
        var learningRate: Double
        var scores: [String: [Double?]]
        var words: [String]
        var best: Bool
        var small: Float
        var path: String
    }

    /// For finite values the bytes are JSONEncoder's own, in both styles and with snake_case keys.
    @Test func finiteDocumentsAreUnchanged() throws {
        let value = Finite(
            epoch: 3, learningRate: 0.015, scores: ["dev": [86.61, nil, 1e-8], "B-PER": [1]], words: ["the", "Paris", "ünïcode", "a/b"],
            best: true, small: 0.1, path: "runs/seed-1/model.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        #expect(try JSONOutput.encode(value, style: .pretty) == (try encoder.encode(value)) + Data([0x0A]))
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(try JSONOutput.encode(value, style: .line) == (try encoder.encode(value)) + Data([0x0A]))
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let snake = try JSONOutput.encode(value, style: .pretty, snakeCaseKeys: true)
        #expect(try snake == encoder.encode(value) + Data([0x0A]))
        #expect(String(decoding: snake, as: UTF8.self).contains("\"learning_rate\""))
        #expect(String(decoding: snake, as: UTF8.self).contains("\"B-PER\""), "dictionary keys keep their case")
    }
}
