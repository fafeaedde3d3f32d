/// conlleval's chunk counts on integer-coded labels, for scoring thousands of
/// ablated predictions of one file quickly. It follows the same rules as
/// `Evaluator` (conlleval.pl's startOfChunk / endOfChunk, every sentence
/// followed by a boundary), and a predicted chunk is correct when a gold
/// chunk has the same start, end and type; the tests check it against `Evaluator`.
public struct ChunkScorer: Sendable {
    enum Prefix: UInt8 { case outside, begin, inside, end, single, dot, open, close, other }

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
            let (prefix, type) = ChunkScorer.split(label)
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

    /// conlleval's split: prefix before the first "-", type after it ("0" counts as no type).
    static func split(_ label: String) -> (Prefix, String) {
        var prefixText = label
        var type = ""
        if let hyphen = label.firstIndex(of: "-") {
            prefixText = String(label[..<hyphen])
            type = String(label[label.index(after: hyphen)...])
            if type == "0" { type = "" }
        }
        let prefix: Prefix
        switch prefixText {
        case "O": prefix = .outside
        case "B": prefix = .begin
        case "I": prefix = .inside
        case "E": prefix = .end
        case "S": prefix = .single
        case ".": prefix = .dot
        case "[": prefix = .open
        case "]": prefix = .close
        default: prefix = .other
        }
        return (prefix, type)
    }

    @inline(__always)
    static func endOfChunk(_ before: Prefix, _ beforeType: Int32, _ now: Prefix, _ nowType: Int32) -> Bool {
        if before == .begin && (now == .begin || now == .outside) { return true }
        if before == .inside && (now == .begin || now == .outside) { return true }
        if before == .end && (now == .end || now == .inside || now == .outside) { return true }
        if before != .outside && before != .dot && beforeType != nowType { return true }
        if before == .close || before == .open { return true }
        return false
    }

    @inline(__always)
    static func startOfChunk(_ before: Prefix, _ beforeType: Int32, _ now: Prefix, _ nowType: Int32) -> Bool {
        if now == .begin && (before == .begin || before == .inside || before == .outside) { return true }
        if before == .outside && now == .inside { return true }
        if before == .end && (now == .end || now == .inside) { return true }
        if before == .outside && now == .end { return true }
        if now != .outside && now != .dot && beforeType != nowType { return true }
        if now == .open || now == .close { return true }
        return false
    }

    @inline(__always)
    static func forEachChunk(
        _ codes: UnsafePointer<Int32>, _ sentenceStarts: [Int], _ prefixes: [Prefix], _ types: [Int32],
        _ body: (Int, Int, Int32) -> Void
    ) {
        for sentence in 0..<(sentenceStarts.count - 1) {
            var before = Prefix.outside, beforeType: Int32 = 0
            var openStart = -1, openType: Int32 = 0
            let end = sentenceStarts[sentence + 1]
            for position in sentenceStarts[sentence]..<end {
                let code = Int(codes[position])
                let now = prefixes[code], nowType = types[code]
                if openStart >= 0 && endOfChunk(before, beforeType, now, nowType) {
                    body(openStart, position, openType)
                    openStart = -1
                }
                if startOfChunk(before, beforeType, now, nowType) {
                    if openStart >= 0 { body(openStart, position, openType) }
                    openStart = position
                    openType = nowType
                }
                before = now
                beforeType = nowType
            }
            if openStart >= 0 { body(openStart, end, openType) }
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
