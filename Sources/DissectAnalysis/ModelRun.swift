import DissectCore
import DissectCorpus
import DissectModel

/// One pass of a trained tagger over a corpus, cached for analysis: every
/// token's hidden state h(t) in the analysed layer, logits and prediction
/// (the Viterbi path with a CRF), and (for recurrent ablation) that layer's
/// input projections, so later steps never rerun the char CNN or the input GEMM.
public struct ModelRun: Sendable {
    public let checkpoint: Checkpoint
    public let labels: [String]
    /// The analysed layer, 0-based (the top one, `configuration.layers − 1`, unless asked otherwise).
    public let layer: Int
    /// n: width of h(t), H × directions, numbered [forward; backward].
    public let neuronCount: Int
    public let tokenCount: Int
    /// Token offset of each sentence, `sentences + 1` values.
    public let sentenceStarts: [Int]
    /// `[N, n]`, token-major: the analysed layer's output.
    public let hidden: [Float]
    /// `[N, m]`.
    public let logits: [Float]
    public let predicted: [Int32]
    /// Gold label index per token; −1 for a label the model does not know.
    public let gold: [Int32]
    public let goldLabels: [[String]]
    /// The analysed layer's input projections per direction, `[N, G]`, when asked for.
    public let projected: [[Float]]?
    public let dataPath: String

    /// - Parameter layer: the layer to analyse, 0-based, below `configuration.layers`; nil for the top one.
    public init(checkpoint: Checkpoint, corpus: Corpus, layer: Int? = nil, keepProjections: Bool = false) {
        let encoder = SentenceEncoder(metadata: checkpoint.metadata)
        self.init(
            checkpoint: checkpoint, encoded: encoder.encode(corpus.sentences), goldLabels: corpus.sentences.map(\.labels),
            dataPath: corpus.path, layer: layer, keepProjections: keepProjections)
    }

    /// From sentences already encoded with the checkpoint's vocabularies.
    public init(
        checkpoint: Checkpoint, encoded: [EncodedSentence], goldLabels: [[String]], dataPath: String,
        layer: Int? = nil, keepProjections: Bool = false
    ) {
        self.checkpoint = checkpoint
        let configuration = checkpoint.model.configuration
        let analysed = layer ?? configuration.layers - 1
        precondition((0..<configuration.layers).contains(analysed), "layer \(analysed) outside the model's \(configuration.layers)")
        self.layer = analysed
        labels = checkpoint.metadata.vocabulary.labels
        neuronCount = configuration.outputSize(layer: analysed)
        self.dataPath = dataPath
        var starts = [0]
        starts.reserveCapacity(encoded.count + 1)
        for sentence in encoded { starts.append(starts[starts.count - 1] + sentence.count) }
        sentenceStarts = starts
        let N = starts[starts.count - 1]
        tokenCount = N
        let n = neuronCount, m = configuration.labelCount, G = configuration.gateSize(layer: analysed)
        var hidden = [Float](repeating: 0, count: N * n)
        var logits = [Float](repeating: 0, count: N * m)
        let projectionBuffers = (0..<(keepProjections ? configuration.directionCount : 0)).map { _ in
            UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, N * G))
        }
        defer { projectionBuffers.forEach { $0.deallocate() } }
        let predictor = Predictor<Float>(configuration: configuration)
        var predictedSentences: [[Int32]] = []
        hidden.withUnsafeMutableBufferPointer { hiddenBuffer in
            logits.withUnsafeMutableBufferPointer { logitsBuffer in
                let hiddenOut = hiddenBuffer.baseAddress!, logitsOut = logitsBuffer.baseAddress!
                let projectionOut = projectionBuffers.map { $0.baseAddress! }
                predictedSentences = predictor.predict(parameters: checkpoint.model.parameters, sentences: encoded) { first, shard in
                    // The shard holds sentences first ..< first + shard.sentenceCount, from token starts[first].
                    let offset = starts[first]
                    let count = shard.tokenCount
                    (hiddenOut + offset * n).update(from: shard.hidden(layer: analysed), count: count * n)
                    (logitsOut + offset * m).update(from: shard.logits.pointer, count: count * m)
                    for (direction, out) in projectionOut.enumerated() {
                        (out + offset * G).update(from: shard.projectedInput(layer: analysed, direction: direction), count: count * G)
                    }
                }
            }
        }
        self.hidden = hidden
        self.logits = logits
        self.projected = keepProjections ? projectionBuffers.map { Array($0.prefix(N * G)) } : nil
        predicted = predictedSentences.flatMap { $0 }
        gold = encoded.flatMap(\.labels)
        self.goldLabels = goldLabels
    }

    /// How `predicted` was decoded: Viterbi when the model has a CRF, else arg-max.
    public var decoding: Decoding { checkpoint.model.configuration.decoding }

    /// Whether the analysed layer is the top one, the layer `hidden2tag` reads.
    public var isTopLayer: Bool { layer == checkpoint.model.configuration.layers - 1 }

    /// `hidden2tag.weight` as stored, `[m, n]`.
    public var outputWeight: ArraySlice<Float> {
        checkpoint.model.tensor("hidden2tag.weight") ?? []
    }

    public var outputBias: ArraySlice<Float> {
        checkpoint.model.tensor("hidden2tag.bias") ?? []
    }
}
