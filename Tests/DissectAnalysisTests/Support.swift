import Foundation
import DissectCore
import DissectModel
@testable import DissectAnalysis

struct TensorJSON: Decodable { var shape: [Int]; var data: [Double] }
struct SentenceJSON: Decodable { var words: [Int32]; var chars: [[Int32]]; var labels: [Int32] }
struct ConfigJSON: Decodable {
    var cell: String; var bidirectional: Bool; var use_chars: Bool; var hidden_size: Int; var word_dim: Int
    var char_dim: Int; var char_filters: Int; var labels: Int; var words: Int; var chars: Int
}
struct AnalysisFixture: Decodable {
    var variant: String
    var config: ConfigJSON
    var sentences: [SentenceJSON]
    var parameters: [String: TensorJSON]
    var hidden: TensorJSON
    var predicted: [Int32]
    var sensitivity_predicted: [[Double?]]
    var sensitivity_gold: [[Double?]]
    var order: [Int]
    var ablation_readout: [[Int32]]
    var ablation_recurrent: [[Int32]]

    static func load(_ variant: String) throws -> AnalysisFixture {
        guard let url = Bundle.module.url(forResource: "analysis_\(variant)", withExtension: "json", subdirectory: "Fixtures")
            ?? Bundle.module.url(forResource: "analysis_\(variant)", withExtension: "json")
        else { throw DissectError(problem: "fixture analysis_\(variant).json missing", fix: "run tools/make_analysis_fixtures.py") }
        return try JSONDecoder().decode(AnalysisFixture.self, from: Data(contentsOf: url))
    }

    var configuration: TaggerConfiguration {
        var c = TaggerConfiguration()
        c.cell = CellKind(rawValue: config.cell) ?? .lstm
        c.bidirectional = config.bidirectional
        c.charCNN = config.use_chars
        c.hiddenSize = config.hidden_size
        c.wordEmbeddingDim = config.word_dim
        c.charEmbeddingDim = config.char_dim
        c.charFilters = config.char_filters
        c.labelCount = config.labels
        c.wordCount = config.words
        c.charCount = config.chars
        return c
    }

    var labelNames: [String] { (0..<config.labels).map { "L\($0)" } }

    /// The fixture's weights in a checkpoint. The fixtures keep format 1's
    /// names (`lstm.…` for a GRU too); every tensor of the layout must be there.
    func checkpoint() throws -> Checkpoint {
        let c = configuration
        var model = TaggerModel<Float>(configuration: c)
        for entry in model.layout.entries {
            let stored = ParameterLayout.storedName(entry.name, cell: c.cell, formatVersion: 1)
            guard let tensor = parameters[stored], tensor.data.count == entry.count else {
                throw DissectError(problem: "fixture tensor \(stored) missing or of the wrong size", fix: "run tools/make_analysis_fixtures.py")
            }
            for index in 0..<entry.count { model.parameters[entry.offset + index] = Float(tensor.data[index]) }
        }
        let metadata = CheckpointMetadata(
            configuration: c,
            vocabulary: VocabularyLists(
                words: (0..<c.wordCount).map { "w\($0)" }, chars: (0..<c.charCount).map { String(UnicodeScalar(97 + $0)!) },
                labels: labelNames),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil)
        return Checkpoint(metadata: metadata, model: model)
    }

    func run(keepProjections: Bool = true) throws -> ModelRun {
        let encoded = sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let names = labelNames
        return ModelRun(
            checkpoint: try checkpoint(), encoded: encoded, goldLabels: sentences.map { $0.labels.map { names[Int($0)] } },
            dataPath: "fixture", keepProjections: keepProjections)
    }
}
