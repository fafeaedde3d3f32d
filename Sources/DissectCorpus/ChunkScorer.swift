/// conlleval's chunk counts on integer-coded labels, for scoring thousands of
/// ablated predictions of one file quickly. It follows the same rules as
/// `Evaluator`, through the same `ConllevalRules` (conlleval.pl's
/// startOfChunk / endOfChunk, every sentence followed by a boundary), and a predicted chunk is correct when a gold
/// chunk has the same start, end and type; the tests check it against `Evaluator`.
public struct ChunkScorer: Sendable {
    typealias Prefix = ConllevalRules.Prefix

    /// Per label code: prefix and interned type (0 = no type).
    let prefixes: [Prefix]
    let types: [Int32]
    let sentenceStarts: [Int]
    /// Per token: the end (exclusive) and type of the gold chunk starting there, or −1.
    let goldEnd: [Int32]
    let goldType: [Int32]
    public let goldChunkCount: Int

    /// - Parameters:
    ///   - labels: the model's labels; predicted codes index this list.
    ///   - gold: the gold label strings of each sentence (labels the model does not know are fine).
    public init(labels: [String], gold: [[String]]) {
        var typeIDs: [String: Int32] = ["": 0]
        var prefixes: [Prefix] = []
        var types: [Int32] = []
        var codes: [String: Int32] = [:]
        func intern(_ label: String) -> Int32 {
            if let code = codes[label] { return code }
            let tag = ConllevalRules.Tag(label)
            let prefix = tag.kind, type = tag.type
            let typeID: Int32
            if let known = typeIDs[type] { typeID = known } else { typeID = Int32(typeIDs.count); typeIDs[type] = typeID }
            prefixes.append(prefix)
            types.append(typeID)
            let code = Int32(prefixes.count - 1)
            codes[label] = code
            return code
        }
        for label in labels { _ = intern(label) }
        var starts = [0]
        var goldCodes: [Int32] = []
        for sentence in gold {
            for label in sentence { goldCodes.append(intern(label)) }
            starts.append(goldCodes.count)
        }
        self.prefixes = prefixes
        self.types = types
        sentenceStarts = starts
        var ends = [Int32](repeating: -1, count: goldCodes.count)
        var chunkTypes = [Int32](repeating: -1, count: goldCodes.count)
        var count = 0
        goldCodes.withUnsafeBufferPointer { codesPointer in
            ChunkScorer.forEachChunk(codesPointer.baseAddress!, starts, prefixes, types) { start, end, type in
                ends[start] = Int32(end)
                chunkTypes[start] = type
                count += 1
            }
        }
        goldEnd = ends
        goldType = chunkTypes
        goldChunkCount = count
    }

    @inline(__always)
    static func forEachChunk(
        _ codes: UnsafePointer<Int32>, _ sentenceStarts: [Int], _ prefixes: [Prefix], _ types: [Int32],
        _ body: (Int, Int, Int32) -> Void
    ) {
        for sentence in 0..<(sentenceStarts.count - 1) {
            // Type 0 is the interned "", the type of O.
            ConllevalRules.forEachChunk(
                in: sentenceStarts[sentence]..<sentenceStarts[sentence + 1], outsideType: Int32(0),
                tagAt: { position in
                    let code = Int(codes[position])
                    return (prefixes[code], types[code])
                }, body)
        }
    }

    /// Counts for predicted label codes (indices into `labels`), one per token.
    public func count(predicted: UnsafePointer<Int32>) -> (correct: Int, found: Int, gold: Int) {
        var correct = 0, found = 0
        ChunkScorer.forEachChunk(predicted, sentenceStarts, prefixes, types) { start, end, type in
            found += 1
            if goldEnd[start] == Int32(end) && goldType[start] == type { correct += 1 }
        }
        return (correct, found, goldChunkCount)
    }

    /// conlleval's overall F1 (percent; 0 when undefined).
    public static func f1(correct: Int, found: Int, gold: Int) -> Double {
        let precision = found > 0 ? 100 * Double(correct) / Double(found) : 0
        let recall = gold > 0 ? 100 * Double(correct) / Double(gold) : 0
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }
}
