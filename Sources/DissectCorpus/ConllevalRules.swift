/// conlleval.pl's chunk logic, ported rule for rule (version 2004-01-26): the
/// one implementation of its `startOfChunk` and `endOfChunk`, used by the
/// string scorer (`Evaluator`, `Chunker.chunks(_:scheme: .conlleval)`) and by
/// the integer-coded `ChunkScorer` of ablation alike, so the two cannot drift
/// apart. NCRF++'s different rules are `Chunker.ncrfChunks`.
enum ConllevalRules {
    /// What conlleval's rules distinguish in a prefix: O, B, I, E, S, ".", "["
    /// and "]", and anything else (which still starts and ends typed chunks).
    enum Prefix: UInt8 {
        case outside, begin, inside, end, single, dot, open, close, other

        init(_ text: Substring) {
            switch text {
            case "O": self = .outside
            case "B": self = .begin
            case "I": self = .inside
            case "E": self = .end
            case "S": self = .single
            case ".": self = .dot
            case "[": self = .open
            case "]": self = .close
            default: self = .other
            }
        }
    }

    /// A label split as conlleval does: `^([^-]*)-(.*)$` gives prefix and type,
    /// otherwise the whole label is the prefix and the type is "". A type of
    /// "0" becomes "" because Perl treats the string "0" as false.
    struct Tag: Equatable {
        /// The prefix as written: conlleval's tag accuracy compares it as text.
        var prefix: Substring
        var type: String
        /// The prefix as the chunk rules read it.
        var kind: Prefix

        static let outside = Tag(prefix: "O", type: "")

        init(prefix: Substring, type: String) {
            self.prefix = prefix
            self.type = type
            kind = Prefix(prefix)
        }

        init(_ label: String) {
            if let hyphen = label.utf8.firstIndex(of: UInt8(ascii: "-")) {
                let rest = String(label[label.utf8.index(after: hyphen)...])
                self.init(prefix: label[..<hyphen], type: rest == "0" ? "" : rest)
            } else {
                self.init(prefix: Substring(label), type: "")
            }
        }
    }

    /// Whether a chunk ended between the previous and the current token. The
    /// type is generic so `ChunkScorer` can compare interned integers where
    /// `Evaluator` compares strings.
    @inline(__always)
    static func endOfChunk<ChunkType: Equatable>(
        _ before: Prefix, _ beforeType: ChunkType, _ now: Prefix, _ nowType: ChunkType
    ) -> Bool {
        if before == .begin && (now == .begin || now == .outside) { return true }
        if before == .inside && (now == .begin || now == .outside) { return true }
        if before == .end && (now == .end || now == .inside || now == .outside) { return true }
        if before != .outside && before != .dot && beforeType != nowType { return true }
        // conlleval: "[" and "]" chunks are assumed to have length 1.
        if before == .close || before == .open { return true }
        return false
    }

    /// Whether a chunk started between the previous and the current token.
    @inline(__always)
    static func startOfChunk<ChunkType: Equatable>(
        _ before: Prefix, _ beforeType: ChunkType, _ now: Prefix, _ nowType: ChunkType
    ) -> Bool {
        if now == .begin && (before == .begin || before == .inside || before == .outside) { return true }
        if before == .outside && now == .inside { return true }
        if before == .end && (now == .end || now == .inside) { return true }
        if before == .outside && now == .end { return true }
        if now != .outside && now != .dot && beforeType != nowType { return true }
        if now == .open || now == .close { return true }
        return false
    }

    /// Calls `body(start, end, type)` for each chunk of the tokens `positions`
    /// (one sentence), in order: a chunk opens where `startOfChunk` holds and
    /// closes where `endOfChunk` holds, where another opens, or at the end (as
    /// conlleval, which sees every sentence followed by a boundary).
    /// `outsideType` is the type of "O", what the sentence is preceded by.
    @inline(__always)
    static func forEachChunk<ChunkType: Equatable>(
        in positions: Range<Int>, outsideType: ChunkType, tagAt: (Int) -> (Prefix, ChunkType),
        _ body: (Int, Int, ChunkType) -> Void
    ) {
        var before = Prefix.outside, beforeType = outsideType
        var openStart = -1, openType = outsideType
        for position in positions {
            let (now, nowType) = tagAt(position)
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
        if openStart >= 0 { body(openStart, positions.upperBound, openType) }
    }

    /// conlleval.pl's counting state machine over a token stream.
    struct Counter {
        var lastCorrect = Tag.outside
        var lastGuessed = Tag.outside
        var inCorrect = false
        var correctChunks = 0
        var foundCorrect = 0
        var foundGuessed = 0
        var correctTags = 0
        var tokens = 0
        var correctByType: [String: Int] = [:]
        var foundCorrectByType: [String: Int] = [:]
        var foundGuessedByType: [String: Int] = [:]

        /// One input line: a token, or a sentence boundary (scored as O/O and
        /// not counted as a token).
        mutating func step(correct: Tag, guessed: Tag, isBoundary: Bool) {
            let guessed = isBoundary ? Tag.outside : guessed
            let correctEnds = ConllevalRules.endOfChunk(lastCorrect.kind, lastCorrect.type, correct.kind, correct.type)
            let guessedEnds = ConllevalRules.endOfChunk(lastGuessed.kind, lastGuessed.type, guessed.kind, guessed.type)
            if inCorrect {
                if correctEnds && guessedEnds && lastGuessed.type == lastCorrect.type {
                    inCorrect = false
                    correctChunks += 1
                    correctByType[lastCorrect.type, default: 0] += 1
                } else if correctEnds != guessedEnds || guessed.type != correct.type {
                    inCorrect = false
                }
            }
            let correctStarts = ConllevalRules.startOfChunk(lastCorrect.kind, lastCorrect.type, correct.kind, correct.type)
            let guessedStarts = ConllevalRules.startOfChunk(lastGuessed.kind, lastGuessed.type, guessed.kind, guessed.type)
            if correctStarts && guessedStarts && guessed.type == correct.type { inCorrect = true }
            if correctStarts {
                foundCorrect += 1
                foundCorrectByType[correct.type, default: 0] += 1
            }
            if guessedStarts {
                foundGuessed += 1
                foundGuessedByType[guessed.type, default: 0] += 1
            }
            if !isBoundary {
                if correct.prefix == guessed.prefix && correct.type == guessed.type { correctTags += 1 }
                tokens += 1
            }
            lastCorrect = correct
            lastGuessed = guessed
        }

        /// End of input: a chunk still correct so far counts.
        mutating func finish() {
            if inCorrect {
                correctChunks += 1
                correctByType[lastCorrect.type, default: 0] += 1
                inCorrect = false
            }
        }
    }
}

