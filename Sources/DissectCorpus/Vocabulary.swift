import DissectCore

/// Replaces every decimal digit with "0", so that "1996" and "2004" share a
/// word. A digit is what Python's `\d` matches on str: a Unicode scalar of
/// general category Nd (ASCII 0-9 and e.g. Arabic-Indic or full-width digits).
/// Other scalars, including superscripts like "²" (category No), are kept.
public func normalizeDigits(_ word: String) -> String {
    var hasDigit = false
    for scalar in word.unicodeScalars where isDecimalDigit(scalar) {
        hasDigit = true
        break
    }
    if !hasDigit { return word }   // the common case: no copy
    var result = String.UnicodeScalarView()
    for scalar in word.unicodeScalars {
        result.append(isDecimalDigit(scalar) ? "0" : scalar)
    }
    return String(result)
}

/// The form of `word` the vocabularies store and look up first: digits → 0
/// (`normalizeDigits`) when `digitsToZero`, else the word as written; case
/// is kept (the lower-case fallback of `WordLookup` comes after). The one
/// normalisation of a word type: the vocabularies, `WordLookup`,
/// `SentenceEncoder` and `ControlTask` all call it.
public func normalizedWord(_ word: String, digitsToZero: Bool) -> String {
    digitsToZero ? normalizeDigits(word) : word
}

@inline(__always)
private func isDecimalDigit(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.isASCII { return scalar.value >= 0x30 && scalar.value <= 0x39 }
    return scalar.properties.generalCategory == .decimalNumber
}

/// A list of distinct strings and their indices (0..<count).
///
/// Encoded as `{"items": [...]}`; the lookup table is rebuilt when decoding.
public struct Vocabulary: Sendable, Equatable, Codable {
    public private(set) var items: [String]
    private var positions: [String: Int]

    /// A vocabulary of `items` in order. If an item repeats, `index(of:)`
    /// returns its first position.
    public init(items: [String]) {
        self.items = items
        positions = [:]
        positions.reserveCapacity(items.count)
        for (position, item) in items.enumerated() where positions[item] == nil {
            positions[item] = position
        }
    }

    public init() { self.init(items: []) }

    /// Adds `item` if new; returns its index either way.
    @discardableResult
    public mutating func add(_ item: String) -> Int {
        if let existing = positions[item] { return existing }
        positions[item] = items.count
        items.append(item)
        return items.count - 1
    }

    /// The index of `item`, or nil if it is not in the vocabulary.
    public func index(of item: String) -> Int? { positions[item] }

    public var count: Int { items.count }

    public static func == (left: Vocabulary, right: Vocabulary) -> Bool { left.items == right.items }

    private enum CodingKeys: String, CodingKey { case items }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(items: try container.decode([String].self, forKey: .items))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
    }
}

/// How a word is turned into a word index at training and prediction time:
/// digits become "0" (when `digitsToZero`), then the word is looked up
/// exactly, then lower-cased, and otherwise maps to `unknownIndex`.
public struct WordLookup: Sendable {
    public var vocabulary: Vocabulary
    public var unknownIndex: Int
    public var digitsToZero: Bool
    /// Whether a word missing as written is looked up again in lower case (dissect's own models);
    /// an imported model that looked words up exactly turns it off.
    public var lowercaseFallback: Bool

    public init(vocabulary: Vocabulary, unknownIndex: Int, digitsToZero: Bool, lowercaseFallback: Bool = true) {
        self.vocabulary = vocabulary
        self.unknownIndex = unknownIndex
        self.digitsToZero = digitsToZero
        self.lowercaseFallback = lowercaseFallback
    }

    /// The word's index in 0..<vocabulary.count, or `unknownIndex`.
    public func index(of word: String) -> Int {
        let normalized = normalizedWord(word, digitsToZero: digitsToZero)
        if let exact = vocabulary.index(of: normalized) { return exact }
        if lowercaseFallback, let lower = vocabulary.index(of: normalized.lowercased()) { return lower }
        return unknownIndex
    }
}

/// Builds the word, character and label vocabularies from training data.
public enum VocabularyBuilder {
    /// The unknown item, always at index 0 of word and character vocabularies.
    public static let unknown = "<unk>"

    /// Index 0 is "<unk>"; then the training words (digits → 0 when
    /// `digitsToZero`) in first-seen order; then, when `includeEmbeddingWords`,
    /// every embeddings word not yet present, in file order (as spelled in the file).
    public static func words(
        training: [Sentence], embeddings: Embeddings?, includeEmbeddingWords: Bool, digitsToZero: Bool
    ) -> Vocabulary {
        var vocabulary = Vocabulary(items: [unknown])
        for sentence in training {
            for word in sentence.words {
                vocabulary.add(normalizedWord(word, digitsToZero: digitsToZero))
            }
        }
        if includeEmbeddingWords, let embeddings {
            for word in embeddings.words { vocabulary.add(word) }
        }
        return vocabulary
    }

    /// Index 0 is "<unk>"; then the Unicode scalars (code points, as Python
    /// strings count them) of the training words (digits → 0 when
    /// `digitsToZero`), first-seen order, each as a one-scalar String.
    public static func characters(training: [Sentence], digitsToZero: Bool) -> Vocabulary {
        var vocabulary = Vocabulary(items: [unknown])
        var seen: Set<Unicode.Scalar> = []
        for sentence in training {
            for word in sentence.words {
                let normalized = normalizedWord(word, digitsToZero: digitsToZero)
                for scalar in normalized.unicodeScalars where seen.insert(scalar).inserted {
                    vocabulary.add(String(String.UnicodeScalarView([scalar])))
                }
            }
        }
        return vocabulary
    }

    /// The training labels in first-seen order (no unknown entry).
    public static func labels(training: [Sentence]) -> Vocabulary {
        var vocabulary = Vocabulary()
        for sentence in training {
            for label in sentence.labels { vocabulary.add(label) }
        }
        return vocabulary
    }
}

/// How the rows of an initial word-embedding matrix were filled.
public struct InitialEmbeddingStats: Sendable, Equatable {
    /// Rows copied from the embeddings by exact match.
    public var exact: Int
    /// Rows copied from the embeddings of the lower-cased word.
    public var lowercased: Int
    /// Rows drawn at random.
    public var random: Int

    public init(exact: Int, lowercased: Int, random: Int) {
        self.exact = exact
        self.lowercased = lowercased
        self.random = random
    }
}

/// The initial word-embedding matrix, shape `[vocabulary.count, dimension]`
/// row-major. Row `i` is the embeddings vector of `vocabulary.items[i]`
/// looked up exactly, else lower-cased, else uniform in
/// `[-sqrt(3/dimension), sqrt(3/dimension))` (variance 1/dimension) drawn from
/// `rng` element by element in vocabulary order, so a seed gives one matrix.
///
/// `embeddings` is used only when its dimension equals `dimension`; check
/// that first with `Embeddings.requireDimension` (otherwise every row is random).
/// `dimension` < 1 gives an empty matrix.
public func initialWordVectors(
    vocabulary: Vocabulary, embeddings: Embeddings?, dimension: Int, rng: inout SplitMix64
) -> (vectors: [Float], stats: InitialEmbeddingStats) {
    var stats = InitialEmbeddingStats(exact: 0, lowercased: 0, random: 0)
    guard dimension >= 1 else { return ([], stats) }
    let usable = embeddings.flatMap { $0.dimension == dimension ? $0 : nil }
    let scale = (3.0 / Double(dimension)).squareRoot()
    var vectors: [Float] = []
    vectors.reserveCapacity(vocabulary.count * dimension)
    for word in vocabulary.items {
        if let vector = usable?.vector(for: word) {
            vectors.append(contentsOf: vector)
            stats.exact += 1
        } else if let vector = usable?.vector(for: word.lowercased()) {
            vectors.append(contentsOf: vector)
            stats.lowercased += 1
        } else {
            for _ in 0..<dimension { vectors.append(Float(rng.uniform(-scale, scale))) }
            stats.random += 1
        }
    }
    return (vectors, stats)
}
