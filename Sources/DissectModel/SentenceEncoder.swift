import DissectCore
import DissectCorpus

/// Turns words and labels into a checkpoint's indices with the lookup rule
/// written in `model.json`.
public struct SentenceEncoder: Sendable {
    public let metadata: CheckpointMetadata
    let wordLookup: WordLookup
    let charIndex: [String: Int32]
    /// `charIndex` for its one-scalar keys, by scalar value: the fast path of char lookup (no String per char).
    /// A scalar not here falls back to `charIndex`, which also matches canonically equivalent spellings.
    let scalarIndex: [UInt32: Int32]
    /// The same for ASCII, −1 where `charIndex` has no entry.
    let asciiIndex: [Int32]
    let labelIndex: [String: Int32]

    public init(metadata: CheckpointMetadata) {
        self.metadata = metadata
        wordLookup = WordLookup(
            vocabulary: Vocabulary(items: metadata.vocabulary.words),
            unknownIndex: metadata.unknownWordIndex, digitsToZero: metadata.digitsToZero,
            lowercaseFallback: metadata.lowercaseFallback ?? true)
        var chars: [String: Int32] = [:]
        for (index, char) in metadata.vocabulary.chars.enumerated() where chars[char] == nil { chars[char] = Int32(index) }
        charIndex = chars
        var scalars: [UInt32: Int32] = [:], ascii = [Int32](repeating: -1, count: 128)
        for (char, index) in chars {
            let unicodeScalars = char.unicodeScalars
            guard unicodeScalars.count == 1, let scalar = unicodeScalars.first else { continue }
            scalars[scalar.value] = index
            if scalar.value < 128 { ascii[Int(scalar.value)] = index }
        }
        scalarIndex = scalars
        asciiIndex = ascii
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
            let normalised = normalizedWord(word, digitsToZero: metadata.digitsToZero)
            for scalar in normalised.unicodeScalars {
                chars.append(charIndex(of: scalar) ?? unknownChar)
            }
            // A word always has at least one character position.
            if Int32(chars.count) == starts[starts.count - 1] { chars.append(unknownChar) }
            starts.append(Int32(chars.count))
        }
        let labels = sentence.labels.map { labelIndex[$0] ?? -1 }
        return EncodedSentence(words: words, charStarts: starts, chars: chars, labels: labels)
    }

    /// The index of one character, nil when the char vocabulary lacks it: as `charIndex[String(scalar)]`, faster.
    @inline(__always)
    func charIndex(of scalar: Unicode.Scalar) -> Int32? {
        if scalar.value < 128 {
            let index = asciiIndex[Int(scalar.value)]
            if index >= 0 { return index }
        } else if let index = scalarIndex[scalar.value] {
            return index
        }
        return charIndex[String(scalar)]
    }

    /// Every sentence encoded, on both cores (each half in order, so the result never depends on scheduling).
    public func encode(_ sentences: [Sentence]) -> [EncodedSentence] {
        guard sentences.count >= 256 else { return sentences.map(encode) }
        let middle = sentences.count / 2
        var halves: [[EncodedSentence]] = [[], []]
        halves.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            parallelFor(2) { half in
                out[half] = (half == 0 ? sentences[..<middle] : sentences[middle...]).map(encode)
            }
        }
        return halves[0] + halves[1]
    }

    /// Gold labels of the data the model has never seen (scored as errors).
    public func unknownLabels(in corpus: Corpus) -> [String] {
        corpus.labelSet.filter { labelIndex[$0] == nil }
    }

    /// Characters of the data (after digit normalisation) that the char
    /// vocabulary lacks, sorted, and how many tokens hold one. Empty for a
    /// model without the char CNN, which never looks at characters.
    public func unknownCharacters(in corpus: Corpus) -> (characters: [String], tokens: Int) {
        guard metadata.configuration.charCNN else { return ([], 0) }
        var unknown = Set<String>()
        var tokens = 0
        for sentence in corpus.sentences {
            for word in sentence.words {
                let normalised = normalizedWord(word, digitsToZero: metadata.digitsToZero)
                var found = false
                for scalar in normalised.unicodeScalars where charIndex(of: scalar) == nil {
                    unknown.insert(String(scalar))
                    found = true
                }
                if found { tokens += 1 }
            }
        }
        return (unknown.sorted(), tokens)
    }

    /// The warnings a data file earns before a model reads it, at most one of
    /// each kind: CR LF line ends, gold labels the model never saw (when
    /// `labels` is true), and characters the char vocabulary lacks.
    public func warnings(for corpus: Corpus, labels: Bool = true) -> [String] {
        var result: [String] = []
        if corpus.crlfLineCount > 0 {
            let plural = corpus.crlfLineCount == 1 ? "line ends" : "lines end"
            result.append("\(corpus.path): \(corpus.crlfLineCount) \(plural) in CR LF (Windows line ends), first at line "
                + "\(corpus.firstCRLFLine ?? 1); they are read as plain line ends")
        }
        if labels {
            let unknown = unknownLabels(in: corpus)
            if !unknown.isEmpty {
                result.append("\(corpus.path): labels the model never saw in training, scored as errors: \(unknown.joined(separator: ", "))")
            }
        }
        let characters = unknownCharacters(in: corpus)
        if characters.tokens > 0 {
            let shown = characters.characters.prefix(10).map { "'\($0)'" }.joined(separator: " ")
            let more = characters.characters.count > 10 ? " and \(characters.characters.count - 10) more" : ""
            let tokens = characters.tokens == 1 ? "1 token holds" : "\(characters.tokens) tokens hold"
            result.append("\(corpus.path): \(tokens) characters never seen in training (\(shown)\(more)); they use the unknown-character vector")
        }
        return result
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
