import Foundation

/// A labelled span of tokens `start..<end` (end exclusive) of one sentence.
public struct Chunk: Hashable, Sendable {
    public var type: String
    public var start: Int
    public var end: Int

    public init(type: String, start: Int, end: Int) {
        self.type = type
        self.start = start
        self.end = end
    }
}

/// Which program's idea of a chunk to follow.
public enum ChunkScheme: Sendable {
    /// conlleval.pl (CoNLL-2000/2003 scorer, version 2004-01-26). A label is
    /// split at its first "-" into prefix and type ("O" has type ""). A chunk
    /// starts at B after B/I/O, at I or E after O, at E or I after E, at "["
    /// or "]", and at any prefix other than O or "." whose type differs from
    /// the previous token's — so a stray I-X (after O, at a sentence start, or
    /// after a chunk of type Y) starts a chunk of type X. A chunk ends before
    /// B or O after B/I, before E/I/O after E, after "[" or "]", and wherever
    /// the type changes (previous prefix not O or ".").
    case conlleval
    /// NCRF++ `utils/metric.py`, `get_ner_BIO`: see `Chunker.ncrfChunks`.
    case ncrf
}

public enum Chunker {
    /// The chunks of one sentence's labels under `scheme`, in order of start.
    ///
    /// For `.conlleval` a chunk opens where conlleval's `startOfChunk` holds and
    /// closes where its `endOfChunk` holds, where another chunk opens, or at the
    /// sentence end (conlleval scores every sentence as followed by a boundary).
    /// For `.ncrf` see `ncrfChunks`.
    public static func chunks(_ labels: [String], scheme: ChunkScheme) -> [Chunk] {
        switch scheme {
        case .conlleval: return conllevalChunks(labels)
        case .ncrf: return ncrfChunks(labels)
        }
    }

    /// Whether `label` is "O" or `B-`, `I-`, `E-` or `S-` followed by a
    /// non-empty type: the labels of a chunked (NER-like) task rather than,
    /// say, POS tags.
    public static func isChunkLabel(_ label: String) -> Bool {
        if label == "O" { return true }
        let bytes = Array(label.utf8)
        return bytes.count >= 3 && bytes[1] == UInt8(ascii: "-")
            && [UInt8(ascii: "B"), UInt8(ascii: "I"), UInt8(ascii: "E"), UInt8(ascii: "S")].contains(bytes[0])
    }

    static func conllevalChunks(_ labels: [String]) -> [Chunk] {
        let tags = labels.map(ConllevalRules.Tag.init)
        var result: [Chunk] = []
        ConllevalRules.forEachChunk(in: tags.indices, outsideType: "", tagAt: { (tags[$0].kind, tags[$0].type) }) { start, end, type in
            result.append(Chunk(type: type, start: start, end: end))
        }
        return result
    }

    /// NCRF++'s BIO chunker (`get_ner_BIO` in `utils/metric.py`), reimplemented.
    ///
    /// Each label is upper-cased first (so types compare case-insensitively and
    /// are reported upper-case). Then, token by token:
    /// - a label containing "B-" anywhere closes the open chunk (if any) and
    ///   opens one whose type is the label with its first "B-" removed;
    /// - else a label containing "I-" continues the open chunk when the label
    ///   with its first "I-" removed equals the open type; otherwise it closes
    ///   the open chunk and opens nothing, so a stray I-X (after O, at the
    ///   sentence start, or after a chunk of another type) is dropped;
    /// - any other label (O, POS tags, S-X, E-X ...) closes the open chunk.
    /// A chunk still open at the end runs to the sentence end. Chunks with an
    /// empty type ("B-") are never reported.
    public static func ncrfChunks(_ labels: [String]) -> [Chunk] {
        var cache: [String: NCRFTag] = [:]
        return ncrfChunks(labels, cache: &cache)
    }

    /// How NCRF++ reads one label: a begin or inside tag with its type, or neither.
    enum NCRFTag {
        case begin(String)
        case inside(String)
        case other
    }

    static func ncrfTag(_ label: String) -> NCRFTag {
        let upper = label.uppercased()
        if let type = removingFirst("B", "-", from: upper) { return .begin(type) }
        if let type = removingFirst("I", "-", from: upper) { return .inside(type) }
        return .other
    }

    /// The same, reading each distinct label once (labels repeat across a file).
    static func ncrfChunks(_ labels: [String], cache: inout [String: NCRFTag]) -> [Chunk] {
        // Types numbered in order of appearance, 0 for the empty type; the rule itself is `ncrfSpans`.
        var typeNames = [""], typeIDs = ["": 0]
        func typeID(_ type: String) -> Int {
            if let known = typeIDs[type] { return known }
            typeNames.append(type)
            typeIDs[type] = typeNames.count - 1
            return typeNames.count - 1
        }
        let codes = labels.map { label -> NCRFCode in
            let tag: NCRFTag
            if let known = cache[label] {
                tag = known
            } else {
                tag = ncrfTag(label)
                cache[label] = tag
            }
            return NCRFCode(tag, typeID: typeID)
        }
        return ncrfSpans(codes).map { Chunk(type: typeNames[$0.type], start: $0.start, end: $0.end) }
    }

    /// An `NCRFTag` with its type as a number (0: the empty type), so chunking compares integers.
    enum NCRFCode: Equatable {
        case begin(Int)
        case inside(Int)
        case other

        init(_ tag: NCRFTag, typeID: (String) -> Int) {
            switch tag {
            case .begin(let type): self = .begin(typeID(type))
            case .inside(let type): self = .inside(typeID(type))
            case .other: self = .other
            }
        }
    }

    /// A chunk with a numbered type, `start..<end`.
    struct Span: Hashable {
        var type: Int
        var start: Int
        var end: Int
    }

    /// NCRF++'s chunking rule (see `ncrfChunks`) over numbered tags: the one place it is written.
    static func ncrfSpans(_ codes: [NCRFCode]) -> [Span] {
        var result: [Span] = []
        var openType = 0
        var openStart = -1
        func close(at end: Int) {
            if openStart >= 0 && openType != 0 {
                result.append(Span(type: openType, start: openStart, end: end))
            }
            openType = 0
            openStart = -1
        }
        for (position, code) in codes.enumerated() {
            switch code {
            case .begin(let type):
                close(at: position)
                openType = type
                openStart = position
            case .inside(let type):
                if type != openType { close(at: position) }
            case .other:
                close(at: position)
            }
        }
        close(at: codes.count)
        return result
    }

    /// `text` with its first occurrence of the two scalars `first second`
    /// removed (as Python's `str.replace(x, "", 1)` after `x in str`), or nil
    /// when they do not occur. Works on scalars, as Python strings do.
    private static func removingFirst(_ first: Unicode.Scalar, _ second: Unicode.Scalar, from text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2 else { return nil }
        for index in 0..<(scalars.count - 1) where scalars[index] == first && scalars[index + 1] == second {
            var rest = String.UnicodeScalarView()
            rest.append(contentsOf: scalars[..<index])
            rest.append(contentsOf: scalars[(index + 2)...])
            return String(rest)
        }
        return nil
    }
}

/// Scores of one chunk type, as conlleval prints them (percent).
public struct TypeScore: Codable, Sendable, Equatable {
    public var type: String
    /// 100 · correct / predicted, or 0 when nothing of this type was predicted.
    public var precision: Double
    /// 100 · correct / gold, or 0 when the gold has no chunk of this type.
    public var recall: Double
    /// 2PR / (P + R), or 0 when P + R = 0.
    public var f1: Double
    public var goldCount: Int
    public var predictedCount: Int
    public var correctCount: Int

    public init(type: String, precision: Double, recall: Double, f1: Double,
                goldCount: Int, predictedCount: Int, correctCount: Int) {
        self.type = type
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.goldCount = goldCount
        self.predictedCount = predictedCount
        self.correctCount = correctCount
    }
}

/// Token accuracy for one gold label.
public struct LabelAccuracy: Codable, Sendable, Equatable {
    public var label: String
    /// Tokens with gold `label` that were predicted `label`.
    public var correct: Int
    /// Tokens with gold `label`.
    public var total: Int
    /// 100 · correct / total, in [0, 100]; 0 when total == 0.
    public var accuracy: Double

    public init(label: String, correct: Int, total: Int, accuracy: Double) {
        self.label = label
        self.correct = correct
        self.total = total
        self.accuracy = accuracy
    }
}

/// Everything `Evaluator.evaluate` measures. Percentages are in [0, 100].
public struct EvaluationReport: Codable, Sendable {
    public var tokens: Int
    public var sentences: Int
    /// conlleval chunk counts.
    public var goldChunks: Int
    public var predictedChunks: Int
    public var correctChunks: Int
    /// 100 · (tokens with predicted == gold) / tokens; 0 when there are no tokens.
    public var accuracy: Double
    /// The accuracy conlleval prints: as `accuracy`, except that labels are
    /// compared after conlleval's split into prefix and type (so "B-0" equals "B").
    public var conllevalAccuracy: Double
    /// conlleval overall scores: P = 100·correct/predicted (0 if none
    /// predicted), R = 100·correct/gold (0 if no gold chunk), F1 = 2PR/(P+R) (0 if P+R = 0).
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Per chunk type, sorted by type (byte order, as conlleval's Perl `sort`).
    public var types: [TypeScore]
    /// NCRF++ scores (`get_ner_fmeasure` with BIO chunks, ×100): correct chunks
    /// are the per-sentence intersection of gold and predicted `Chunker.ncrfChunks`.
    /// As in NCRF++, precision is −1 when nothing is predicted, recall is −1
    /// when the gold has no chunk, and F1 is −1 when either is −1 or P + R = 0.
    public var ncrfPrecision: Double
    public var ncrfRecall: Double
    public var ncrfF1: Double
    /// Per gold label (sorted): share of its tokens predicted as that label.
    public var labelAccuracy: [LabelAccuracy]
    /// Whether every gold and predicted label is "O" or `[BIES]-TYPE` with a
    /// non-empty TYPE (false for POS tags, and when there are no labels).
    public var isChunked: Bool
}

public enum Evaluator {
    /// Scores `predicted` against `gold`, sentence by sentence.
    ///
    /// The conlleval part is conlleval.pl run on the file `word gold predicted`
    /// with a blank line after every sentence. A predicted sentence shorter than
    /// its gold sentence (or missing) is padded with "O"; extra predicted
    /// labels or sentences are ignored. Never divides by zero: empty input
    /// gives zero counts and zero percentages (NCRF++ fields −1).
    public static func evaluate(gold: [[String]], predicted: [[String]]) -> EvaluationReport {
        var counter = ConllevalRules.Counter()
        var exactTokens = 0
        var ncrfRight = 0, ncrfGold = 0, ncrfPredicted = 0
        var isChunked = true
        var sawLabel = false
        // Labels repeat: each distinct one is numbered and read once (its conlleval tag, whether it looks
        // chunked, NCRF++'s reading), and the counts are kept by number. Equal numbers are equal labels.
        var labelIDs: [String: Int] = [:]
        var labelNames: [String] = [], labelTags: [ConllevalRules.Tag] = [], labelChunked: [Bool] = []
        var labelCodes: [Chunker.NCRFCode] = []
        var labelTotal: [Int] = [], labelCorrect: [Int] = []
        var typeIDs = ["": 0], typeCount = 1
        func typeID(_ type: String) -> Int {
            if let known = typeIDs[type] { return known }
            typeIDs[type] = typeCount
            typeCount += 1
            return typeCount - 1
        }
        func labelID(_ label: String) -> Int {
            if let known = labelIDs[label] { return known }
            let id = labelNames.count
            labelIDs[label] = id
            labelNames.append(label)
            labelTags.append(ConllevalRules.Tag(label))
            labelChunked.append(Chunker.isChunkLabel(label))
            labelCodes.append(Chunker.NCRFCode(Chunker.ncrfTag(label), typeID: typeID))
            labelTotal.append(0)
            labelCorrect.append(0)
            return id
        }
        let outsideID = labelID("O")
        var goldIDs: [Int] = [], guessIDs: [Int] = []

        for (sentenceIndex, goldLabels) in gold.enumerated() {
            let given = sentenceIndex < predicted.count ? predicted[sentenceIndex] : []
            goldIDs.removeAll(keepingCapacity: true)
            guessIDs.removeAll(keepingCapacity: true)
            for label in goldLabels { goldIDs.append(labelID(label)) }
            for label in given.prefix(goldLabels.count) { guessIDs.append(labelID(label)) }
            while guessIDs.count < goldIDs.count { guessIDs.append(outsideID) }
            for (goldID, guessID) in zip(goldIDs, guessIDs) {
                sawLabel = true
                if isChunked && !(labelChunked[goldID] && labelChunked[guessID]) { isChunked = false }
                counter.step(correct: labelTags[goldID], guessed: labelTags[guessID], isBoundary: false)
                labelTotal[goldID] += 1
                if goldID == guessID {
                    exactTokens += 1
                    labelCorrect[goldID] += 1
                }
            }
            counter.step(correct: .outside, guessed: .outside, isBoundary: true)

            let goldChunks = Chunker.ncrfSpans(goldIDs.map { labelCodes[$0] })
            let guessChunks = Chunker.ncrfSpans(guessIDs.map { labelCodes[$0] })
            ncrfGold += goldChunks.count
            ncrfPredicted += guessChunks.count
            if !goldChunks.isEmpty && !guessChunks.isEmpty {
                ncrfRight += Set(goldChunks).intersection(Set(guessChunks)).count
            }
        }
        counter.finish()

        let precision = counter.foundGuessed > 0 ? 100 * Double(counter.correctChunks) / Double(counter.foundGuessed) : 0
        let recall = counter.foundCorrect > 0 ? 100 * Double(counter.correctChunks) / Double(counter.foundCorrect) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0

        let allTypes = Set(counter.foundCorrectByType.keys).union(counter.foundGuessedByType.keys)
        let types = allTypes.sorted(by: byteOrder).map { type -> TypeScore in
            let correct = counter.correctByType[type] ?? 0
            let found = counter.foundGuessedByType[type] ?? 0
            let goldCount = counter.foundCorrectByType[type] ?? 0
            let typePrecision = found > 0 ? 100 * Double(correct) / Double(found) : 0
            let typeRecall = goldCount > 0 ? 100 * Double(correct) / Double(goldCount) : 0
            let typeF1 = typePrecision + typeRecall == 0 ? 0 : 2 * typePrecision * typeRecall / (typePrecision + typeRecall)
            return TypeScore(type: type, precision: typePrecision, recall: typeRecall, f1: typeF1,
                             goldCount: goldCount, predictedCount: found, correctCount: correct)
        }

        // NCRF++ works in fractions and uses −1 for "undefined"; we scale defined values to percent.
        let ncrfP = ncrfPredicted == 0 ? -1 : Double(ncrfRight) / Double(ncrfPredicted)
        let ncrfR = ncrfGold == 0 ? -1 : Double(ncrfRight) / Double(ncrfGold)
        let ncrfF = (ncrfP == -1 || ncrfR == -1 || ncrfP + ncrfR <= 0) ? -1 : 2 * ncrfP * ncrfR / (ncrfP + ncrfR)

        // Labels seen in gold, as the counts were keyed before numbering.
        let goldLabelIDs = labelNames.indices.filter { labelTotal[$0] > 0 }
        let labelAccuracy = goldLabelIDs.sorted { byteOrder(labelNames[$0], labelNames[$1]) }.map { id -> LabelAccuracy in
            let label = labelNames[id], total = labelTotal[id], correct = labelCorrect[id]
            return LabelAccuracy(label: label, correct: correct, total: total,
                                 accuracy: total > 0 ? 100 * Double(correct) / Double(total) : 0)
        }

        let tokens = counter.tokens
        return EvaluationReport(
            tokens: tokens, sentences: gold.count,
            goldChunks: counter.foundCorrect, predictedChunks: counter.foundGuessed,
            correctChunks: counter.correctChunks,
            accuracy: tokens > 0 ? 100 * Double(exactTokens) / Double(tokens) : 0,
            conllevalAccuracy: tokens > 0 ? 100 * Double(counter.correctTags) / Double(tokens) : 0,
            precision: precision, recall: recall, f1: f1, types: types,
            ncrfPrecision: ncrfP == -1 ? -1 : 100 * ncrfP,
            ncrfRecall: ncrfR == -1 ? -1 : 100 * ncrfR,
            ncrfF1: ncrfF == -1 ? -1 : 100 * ncrfF,
            labelAccuracy: labelAccuracy, isChunked: isChunked && sawLabel)
    }

    /// The text conlleval.pl prints for the same input, byte for byte:
    /// ```
    /// processed N tokens with G phrases; found: P phrases; correct: C.
    /// accuracy:  xx.xx%; precision:  xx.xx%; recall:  xx.xx%; FB1:  xx.xx
    ///               PER: precision:  xx.xx%; recall:  xx.xx%; FB1:  xx.xx  P
    /// ```
    /// (the accuracy line only when N > 0). As in conlleval, the untyped chunk
    /// type "" is listed twice when it occurs in both gold and predictions.
    public static func conllevalTable(_ report: EvaluationReport) -> String {
        var text = "processed \(report.tokens) tokens with \(report.goldChunks) phrases; "
        text += "found: \(report.predictedChunks) phrases; correct: \(report.correctChunks).\n"
        if report.tokens > 0 {
            text += "accuracy: \(fixed(report.conllevalAccuracy))%; "
            text += "precision: \(fixed(report.precision))%; "
            text += "recall: \(fixed(report.recall))%; "
            text += "FB1: \(fixed(report.f1))\n"
        }
        // conlleval sorts the gold keys and predicted keys together and skips a
        // repeat only when the previous name is true in Perl, so "" repeats.
        var names = report.types.filter { $0.goldCount > 0 }.map(\.type)
        names += report.types.filter { $0.predictedCount > 0 }.map(\.type)
        names.sort(by: byteOrder)
        let byType = Dictionary(report.types.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        var lastName: String?
        for name in names {
            defer { lastName = name }
            if let lastName, !lastName.isEmpty, lastName != "0", lastName == name { continue }
            guard let score = byType[name] else { continue }
            let padding = String(repeating: " ", count: max(0, 17 - name.utf8.count))
            text += "\(padding)\(name): precision: \(fixed(score.precision))%; "
            text += "recall: \(fixed(score.recall))%; FB1: \(fixed(score.f1))  \(score.predictedCount)\n"
        }
        return text
    }

    /// `%6.2f`, as Perl's printf (both use the C library's rounding).
    private static func fixed(_ value: Double) -> String {
        String(format: "%6.2f", value)
    }

    /// Byte-wise UTF-8 order, which is what Perl's `sort` does on byte strings.
    static func byteOrder(_ left: String, _ right: String) -> Bool {
        left.utf8.lexicographicallyPrecedes(right.utf8)
    }
}
