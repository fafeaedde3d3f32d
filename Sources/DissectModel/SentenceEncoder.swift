import DissectCore
import DissectCorpus

/// Turns words and labels into a checkpoint's indices with the lookup rule
/// written in `model.json`.
public struct SentenceEncoder: Sendable {
    public let metadata: CheckpointMetadata
    let wordLookup: WordLookup
    let charIndex: [String: Int32]
    let labelIndex: [String: Int32]

    public init(metadata: CheckpointMetadata) {
        self.metadata = metadata
        wordLookup = WordLookup(
            vocabulary: Vocabulary(items: metadata.vocabulary.words),
            unknownIndex: metadata.unknownWordIndex, digitsToZero: metadata.digitsToZero)
        var chars: [String: Int32] = [:]
        for (index, char) in metadata.vocabulary.chars.enumerated() where chars[char] == nil { chars[char] = Int32(index) }
        charIndex = chars
        var labels: [String: Int32] = [:]
        for (index, label) in metadata.vocabulary.labels.enumerated() where labels[label] == nil { labels[label] = Int32(index) }
        labelIndex = labels
    }

    public var labels: [String] { metadata.vocabulary.labels }

    public func encode(_ sentence: Sentence) -> EncodedSentence {
        var words: [Int32] = []
        var starts: [Int32] = [0]
        var chars: [Int32] = []
        words.reserveCapacity(sentence.words.count)
        starts.reserveCapacity(sentence.words.count + 1)
        chars.reserveCapacity(sentence.words.reduce(0) { $0 + $1.utf8.count })
        let unknownChar = Int32(metadata.unknownCharIndex)
        for word in sentence.words {
            words.append(Int32(wordLookup.index(of: word)))
            let normalised = metadata.digitsToZero ? normalizeDigits(word) : word
            for scalar in normalised.unicodeScalars {
                chars.append(charIndex[String(scalar)] ?? unknownChar)
            }
            // A word always has at least one character position.
            if Int32(chars.count) == starts[starts.count - 1] { chars.append(unknownChar) }
            starts.append(Int32(chars.count))
        }
        let labels = sentence.labels.map { labelIndex[$0] ?? -1 }
        return EncodedSentence(words: words, charStarts: starts, chars: chars, labels: labels)
    }

    public func encode(_ sentences: [Sentence]) -> [EncodedSentence] { sentences.map(encode) }

    /// Gold labels of the data the model has never seen (scored as errors).
    public func unknownLabels(in corpus: Corpus) -> [String] {
        corpus.labelSet.filter { labelIndex[$0] == nil }
    }
}

/// Predicts label strings for a corpus and scores them.
public struct TaggerEvaluation: Sendable {
    public var predicted: [[String]]
    public var report: EvaluationReport
}

extension Predictor where T == Float {
    public func evaluate(checkpointModel model: TaggerModel<Float>, encoder: SentenceEncoder, corpus: Corpus, encoded: [EncodedSentence]? = nil) -> TaggerEvaluation {
        let inputs = encoded ?? encoder.encode(corpus.sentences)
        let indices = predict(parameters: model.parameters, sentences: inputs)
        let labels = encoder.labels
        let predicted = indices.map { $0.map { labels[Int($0)] } }
        let report = Evaluator.evaluate(gold: corpus.sentences.map(\.labels), predicted: predicted)
        return TaggerEvaluation(predicted: predicted, report: report)
    }
}
