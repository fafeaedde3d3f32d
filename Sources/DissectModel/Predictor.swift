import DissectCore
import DissectKernels

/// Runs a trained tagger over many sentences on all cores, in fixed slices
/// so the output never depends on scheduling.
public final class Predictor<T: Scalar> {
    public let configuration: TaggerConfiguration
    let shards: [TaggerShard<T>]
    /// Sentences per forward call: bounds scratch memory on large files.
    public var chunkSize = Sharding.sentencesPerCall
    /// Tokens per forward call: a call ends before it would pass this (a longer sentence goes alone), so a
    /// wide model's scratch stays near `Sharding.scratchFloatsPerCall` (`Sharding.tokensPerCall`).
    public var tokensPerCall: Int

    public init(configuration: TaggerConfiguration, shardCount: Int = 2) {
        self.configuration = configuration
        tokensPerCall = Sharding.tokensPerCall(configuration)
        shards = (0..<max(1, shardCount)).map { _ in TaggerShard<T>(configuration: configuration) }
    }

    /// Predicted label indices for every token of every sentence (Viterbi paths when the model has a CRF).
    /// - Parameter hidden: called per shard chunk with (first sentence index,
    ///   the shard): lets analysis read `hidden` before it is overwritten.
    @_specialize(where T == Float)
    public func predict(
        parameters: [T], sentences: [EncodedSentence],
        visit: ((Int, TaggerShard<T>) -> Void)? = nil
    ) -> [[Int32]] {
        var result = [[Int32]](repeating: [], count: sentences.count)
        let ranges = Sharding.split(sentences, into: shards.count)
        parameters.withUnsafeBufferPointer { parameterBuffer in
            let p = parameterBuffer.baseAddress!
            result.withUnsafeMutableBufferPointer { output in
                let out = output
                parallelFor(shards.count) { shardIndex in
                    let shard = shards[shardIndex]
                    var start = ranges[shardIndex].lowerBound
                    while start < ranges[shardIndex].upperBound {
                        var end = start, tokens = 0
                        while end < ranges[shardIndex].upperBound && end - start < chunkSize
                            && (end == start || tokens + sentences[end].count <= tokensPerCall) {
                            tokens += sentences[end].count
                            end += 1
                        }
                        shard.forward(parameters: p, sentences: sentences, range: start..<end, dropoutRNG: nil, withLoss: false)
                        visit?(start, shard)
                        for (offset, index) in (start..<end).enumerated() {
                            var labels = [Int32](repeating: 0, count: sentences[index].count)
                            labels.withUnsafeMutableBufferPointer { buffer in
                                if let base = buffer.baseAddress { shard.decode(parameters: p, sentence: offset, into: base) }
                            }
                            out[index] = labels
                        }
                        start = end
                    }
                }
            }
        }
        return result
    }
}

/// Fixed, scheduling-independent division of work between cores.
public enum Sharding {
    /// Sentences per forward call of a `Predictor` (its default `chunkSize`).
    public static let sentencesPerCall = 64
    /// The inference scratch a forward call aims at, in Float elements per shard (8 MiB).
    public static let scratchFloatsPerCall = 2 << 20

    /// Tokens per forward call of a `Predictor`: `scratchFloatsPerCall` over one token's inference scratch,
    /// L·dirs·(2G + 3H) + L·O + m (projections and activations, three H-wide states, each layer's output, the
    /// logits). The paper's model gets about 3,440 tokens, more than any 64 consecutive CoNLL-2003 sentences hold
    /// (1,744 at most), so only wide models are cut (a BiLSTM 400 per direction: about 218 tokens).
    public static func tokensPerCall(_ c: TaggerConfiguration) -> Int {
        // The widest layer bounds every layer's scratch.
        let H = Double(c.widestHiddenSize), G = Double(c.cell.gateCount) * H, O = Double(c.directionCount) * H
        let perToken = Double(c.layers) * Double(c.directionCount) * (2 * G + 3 * H) + Double(c.layers) * O + Double(c.labelCount)
        return Int(max(1, min(Double(Int32.max), Double(scratchFloatsPerCall) / max(perToken, 1))))
    }

    /// Splits sentences into `parts` contiguous ranges of about equal token counts.
    public static func split(_ sentences: [EncodedSentence], into parts: Int, range: Range<Int>? = nil) -> [Range<Int>] {
        let whole = range ?? 0..<sentences.count
        var total = 0
        for index in whole { total += sentences[index].count }
        var ranges: [Range<Int>] = []
        var start = whole.lowerBound
        var seen = 0
        var index = whole.lowerBound
        for part in 1...parts {
            let target = total * part / parts
            while index < whole.upperBound && (seen + sentences[index].count <= target || part == parts) {
                seen += sentences[index].count
                index += 1
            }
            ranges.append(start..<index)
            start = index
        }
        return ranges
    }
}
