import DissectModel
import Foundation

/// A valid checkpoint with very many labels and tiny everything else (hidden 8,
/// no char CNN), written with zero weights: it loads in any memory, but its
/// logits over a long file fit nowhere.
enum WideModel {
    static func write(to directory: String, labels: Int) throws {
        var c = TaggerConfiguration()
        c.charCNN = false
        c.hiddenSize = 8
        c.wordEmbeddingDim = 4
        c.wordCount = 2
        c.charCount = 2
        c.labelCount = labels
        let metadata = CheckpointMetadata(
            configuration: c,
            vocabulary: VocabularyLists(words: ["<unk>", "a"], chars: ["<unk>", "a"], labels: (0..<labels).map { "L\($0)" }),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil)
        try Checkpoint(metadata: metadata, model: TaggerModel<Float>(configuration: c)).save(to: directory)
    }
}
