import DissectCore

/// One property of every token of a corpus: its name, its values, and each token's value.
///
/// Every token has exactly one value (a partition of the tokens), so
/// `E[h | value] − E[h | not value]` and the AUC of h for a value are defined
/// for every value that some tokens have and some do not.
public struct TokenProperty: Sendable, Equatable, Codable {
    public var name: String
    /// Where the values come from: "computed", or "column N" of the CoNLL file.
    public var source: String
    public var values: [String]
    /// Per token, sentence by sentence, the index into `values`.
    public var assignments: [Int32]

    public init(name: String, source: String, values: [String], assignments: [Int32]) {
        precondition(assignments.allSatisfy { $0 >= 0 && Int($0) < values.count }, "every token of \(name) needs one of its values")
        self.name = name
        self.source = source
        self.values = values
        self.assignments = assignments
    }

    /// Tokens per value.
    public var counts: [Int] {
        var result = [Int](repeating: 0, count: values.count)
        for value in assignments { result[Int(value)] += 1 }
        return result
    }
}

/// The token properties `dissect concepts` describes neurons by: the word's shape, where it
/// stands in its entity and its sentence, how often the training file has it, and any
/// other column of the file (POS and chunk in CoNLL-2003).
public enum TokenProperties {
    /// The names `computed` gives its properties, in its order.
    public static let computedNames = [
        "capitalised", "all caps", "has digit", "punctuation", "previous capitalised", "entity position", "entity length",
        "sentence position", "training frequency", "unknown word",
    ]
    /// The values of a yes/no property, "yes" first.
    public static let yesNo = ["yes", "no"]
    /// Position in the gold entity (by conlleval's chunks): not in one, its first, a middle, its last token, or a one-token entity.
    public static let entityPositions = ["outside", "first", "inside", "last", "single"]
    /// Length in tokens of the gold entity the token is in.
    public static let entityLengths = ["outside", "1", "2", "3", "4+"]
    /// 1-based position in the sentence, in bands.
    public static let sentencePositions = ["1", "2", "3-5", "6-10", "11-20", "21+"]
    /// How often the training file has the word (as the vocabulary normalises it), in bands.
    public static let frequencyBands = ["unseen", "1", "2-9", "10-99", "100-999", "1000+"]
    /// The previous token's capitalisation; "start" for a sentence's first token.
    public static let previousCapitalisedValues = ["yes", "no", "start"]

    /// The first character is an uppercase letter ("Paris", "EU"; not "iPhone", "1990").
    public static func isCapitalised(_ word: String) -> Bool {
        guard let first = word.first else { return false }
        return first.isLetter && first.isUppercase
    }

    /// Some letter is cased and none is lowercase ("EU", "I", "U.S."; not "Paris", "1990").
    public static func isAllCaps(_ word: String) -> Bool {
        var sawUppercase = false
        for character in word where character.isLetter {
            if character.isLowercase { return false }
            if character.isUppercase { sawUppercase = true }
        }
        return sawUppercase
    }

    /// Some character is a decimal digit ("1990", "3-0", "A4").
    public static func hasDigit(_ word: String) -> Bool {
        word.unicodeScalars.contains { $0.properties.numericType == .decimal }
    }

    /// Every character is punctuation or a symbol ("," "--" "$" "(", not "U.S.").
    public static func isPunctuation(_ word: String) -> Bool {
        !word.isEmpty && word.allSatisfy { $0.isPunctuation || $0.isSymbol }
    }

    /// The band of a 1-based position in the sentence (`sentencePositions`).
    public static func positionBand(_ position: Int) -> Int32 {
        switch position {
        case ...1: 0
        case 2: 1
        case 3...5: 2
        case 6...10: 3
        case 11...20: 4
        default: 5
        }
    }

    /// The band of a training-file count (`frequencyBands`).
    public static func frequencyBand(_ count: Int) -> Int32 {
        switch count {
        case ...0: 0
        case 1: 1
        case 2...9: 2
        case 10...99: 3
        case 100...999: 4
        default: 5
        }
    }

    /// Per token of one sentence: its position in its gold entity (`entityPositions`) and
    /// the entity's length (`entityLengths`), both from conlleval's chunks of `labels`.
    public static func entityPlaces(_ labels: [String]) -> (position: [Int32], length: [Int32]) {
        var position = [Int32](repeating: 0, count: labels.count), length = [Int32](repeating: 0, count: labels.count)
        for chunk in Chunker.chunks(labels, scheme: .conlleval) {
            let size = chunk.end - chunk.start
            for token in chunk.start..<chunk.end {
                position[token] = size == 1 ? 4 : token == chunk.start ? 1 : token == chunk.end - 1 ? 3 : 2
                length[token] = Int32(min(size, 4))
            }
        }
        return (position, length)
    }

    /// How often each word of a training corpus occurs, after the vocabulary's normalisation.
    public struct WordFrequency: Sendable {
        public let counts: [String: Int]
        public let digitsToZero: Bool
        /// Where the counts come from, for the report.
        public let path: String

        public init(corpus: Corpus, digitsToZero: Bool) {
            var counts: [String: Int] = [:]
            for sentence in corpus.sentences {
                for word in sentence.words { counts[normalizedWord(word, digitsToZero: digitsToZero), default: 0] += 1 }
            }
            self.counts = counts
            self.digitsToZero = digitsToZero
            path = corpus.path
        }

        public func count(of word: String) -> Int { counts[normalizedWord(word, digitsToZero: digitsToZero)] ?? 0 }
    }

    /// The computed properties of every token of `corpus`, in this order: capitalised, all caps,
    /// has a digit, punctuation, previous word capitalised, position in the entity, entity length,
    /// position in the sentence, and, when given, the training-file frequency band and whether the
    /// word is unknown to the model's vocabulary (`unknown`, one flag per token).
    public static func computed(corpus: Corpus, frequency: WordFrequency?, unknown: [Bool]?) -> [TokenProperty] {
        let words = corpus.sentences.flatMap(\.words)
        precondition(unknown.map { $0.count == words.count } ?? true, "one unknown flag per token")
        func binary(_ name: String, _ test: (String) -> Bool) -> TokenProperty {
            TokenProperty(name: name, source: "computed", values: TokenProperties.yesNo, assignments: words.map { test($0) ? 0 : 1 })
        }
        var previous: [Int32] = [], entityPosition: [Int32] = [], entityLength: [Int32] = [], sentencePosition: [Int32] = []
        for sentence in corpus.sentences {
            let places = entityPlaces(sentence.labels)
            entityPosition += places.position
            entityLength += places.length
            for (index, _) in sentence.words.enumerated() {
                previous.append(index == 0 ? 2 : isCapitalised(sentence.words[index - 1]) ? 0 : 1)
                sentencePosition.append(positionBand(index + 1))
            }
        }
        var result = [
            binary("capitalised", isCapitalised),
            binary("all caps", isAllCaps),
            binary("has digit", hasDigit),
            binary("punctuation", isPunctuation),
            TokenProperty(name: "previous capitalised", source: "computed", values: previousCapitalisedValues, assignments: previous),
            TokenProperty(name: "entity position", source: "computed", values: entityPositions, assignments: entityPosition),
            TokenProperty(name: "entity length", source: "computed", values: entityLengths, assignments: entityLength),
            TokenProperty(name: "sentence position", source: "computed", values: sentencePositions, assignments: sentencePosition),
        ]
        if let frequency {
            result.append(TokenProperty(
                name: "training frequency", source: "computed", values: frequencyBands,
                assignments: words.map { frequencyBand(frequency.count(of: $0)) }))
        }
        if let unknown {
            result.append(TokenProperty(name: "unknown word", source: "computed", values: TokenProperties.yesNo, assignments: unknown.map { $0 ? 0 : 1 }))
        }
        return result
    }

    /// A property from column `column` (1-based) of the file `corpus` was read from, read again as
    /// `columnCorpus` (`CoNLLReader.read(path:tagColumn: column)`): its values sorted, each token's value.
    /// - Throws: `DissectError` (.input) when the two readings do not have the same tokens.
    public static func column(_ name: String, column: Int, corpus: Corpus, columnCorpus: Corpus) throws -> TokenProperty {
        guard columnCorpus.sentences.count == corpus.sentences.count,
              zip(columnCorpus.sentences, corpus.sentences).allSatisfy({ $0.words == $1.words })
        else {
            throw DissectError(
                .input, file: corpus.path, problem: "column \(column) does not line up with the tokens the model reads",
                fix: "pass a --property-column that every token line has")
        }
        let values = columnCorpus.labelSet
        let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, Int32($0)) })
        return TokenProperty(
            name: name, source: "column \(column)", values: values,
            assignments: columnCorpus.sentences.flatMap { $0.labels.map { index[$0] ?? 0 } })
    }
}
