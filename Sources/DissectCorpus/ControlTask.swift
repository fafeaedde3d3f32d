import DissectCore

/// The control task of Hewitt & Liang (2019), "Designing and Interpreting
/// Probes with Control Tasks" (EMNLP-IJCNLP 2019, section 2), for a tagger:
/// every word type gets one label, drawn once from the training file's
/// token-level label distribution, and every token of that type carries it.
/// The output depends only on the word's identity, so a model can learn it
/// only by memorising types; what a real model's neurons show beyond a
/// control model's (selectivity = real − control) is what the real labels add.
///
/// Definition, for a word `w`, seed `s` and label counts `c_0 … c_{m−1}`
/// (token counts of the training file, labels in vocabulary order,
/// `C = Σ c_j`):
///
/// - type `t = normalizedWord(w, digitsToZero)`: digits → 0 when the model
///   normalises them, case kept (the vocabulary's own normalisation);
/// - `h = FNV-1a-64(UTF-8 bytes of t)`;
/// - `r = SplitMix64(seed: s, stream: 0x4354_524C, h).next()` ("CTRL");
/// - `u = r / 2^64`, uniform in [0, 1);
/// - the label is the first `j` with `u < (c_0 + … + c_j) / C` (the inverse
///   CDF), computed exactly in integers as `⌊r·C / 2^64⌋ < c_0 + … + c_j`,
///   so `P(j) = c_j / C` up to `C / 2^64` and a label of count 0 never occurs.
///
/// A pure function of `(s, t)` and the counts: the same on every machine,
/// for train, dev and test alike, so a type seen only in dev or test gets
/// its label the same way. Types are compared by their UTF-8 bytes, so two
/// spellings of a word in different Unicode normal forms are two types.
public struct ControlTask: Sendable, Equatable {
    /// The seed of the labels (dissect uses the training `--seed`).
    public let seed: UInt64
    /// The labels, in vocabulary order (index `j` above).
    public let labels: [String]
    /// Token count of each label in the training file, same order; `counts[j] ≥ 0`, `Σ > 0`.
    public let counts: [Int]
    /// Whether digits become 0 before hashing (the model's `digits_to_zero`).
    public let digitsToZero: Bool
    /// `cumulative[j] = c_0 + … + c_j`; its last entry is `C`.
    let cumulative: [UInt64]

    /// Why a label distribution cannot define a control task.
    public struct InvalidDistribution: Error, Sendable, CustomStringConvertible {
        public var problem: String
        public var description: String { problem }
    }

    /// - Throws: `InvalidDistribution` when `labels` is empty, `counts` has
    ///   another length, a count is negative, or the counts sum to 0 or
    ///   beyond `Int.max`.
    public init(seed: UInt64, labels: [String], counts: [Int], digitsToZero: Bool) throws(InvalidDistribution) {
        guard !labels.isEmpty else { throw InvalidDistribution(problem: "there are no labels to draw from") }
        guard counts.count == labels.count else {
            throw InvalidDistribution(problem: "it gives \(counts.count) label counts for \(labels.count) labels")
        }
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(counts.count)
        var total = 0
        for (label, count) in zip(labels, counts) {
            guard count >= 0 else { throw InvalidDistribution(problem: "the count of \(label) is \(count), below 0") }
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { throw InvalidDistribution(problem: "the label counts sum to more than \(Int.max)") }
            total = sum
            cumulative.append(UInt64(total))
        }
        guard total > 0 else { throw InvalidDistribution(problem: "the label counts sum to 0") }
        self.seed = seed
        self.labels = labels
        self.counts = counts
        self.digitsToZero = digitsToZero
        self.cumulative = cumulative
    }

    /// The control task of a training file: `labels` (the label vocabulary,
    /// in its order) weighted by how many of `training`'s tokens carry each.
    /// - Throws: `InvalidDistribution` when no token carries any of `labels`.
    public init(training: Corpus, labels: [String], seed: UInt64, digitsToZero: Bool) throws(InvalidDistribution) {
        try self.init(seed: seed, labels: labels, counts: Self.labelCounts(of: training, labels: labels), digitsToZero: digitsToZero)
    }

    /// How many tokens of `corpus` carry each of `labels` (same order); tokens of other labels are not counted.
    public static func labelCounts(of corpus: Corpus, labels: [String]) -> [Int] {
        var positions: [String: Int] = [:]
        for (index, label) in labels.enumerated() where positions[label] == nil { positions[label] = index }
        var counts = [Int](repeating: 0, count: labels.count)
        for sentence in corpus.sentences {
            for label in sentence.labels {
                if let index = positions[label] { counts[index] += 1 }
            }
        }
        return counts
    }

    /// The control label's index in `labels` for `word` (any spelling of its type).
    public func labelIndex(for word: String) -> Int {
        let type = normalizedWord(word, digitsToZero: digitsToZero)
        var generator = SplitMix64(seed: seed, stream: Self.stream, Self.fnv1a64(type.utf8))
        let target = generator.next().multipliedFullWidth(by: cumulative[cumulative.count - 1]).high
        // The first j with target < cumulative[j] (one exists: target < C).
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if target < cumulative[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The control label of `word`.
    public func label(for word: String) -> String { labels[labelIndex(for: word)] }

    /// `corpus` with every token's gold label replaced by its word's control
    /// label; words, lines, path and CR LF counts are kept.
    public func relabel(_ corpus: Corpus) -> Corpus {
        let sentences = corpus.sentences.map { sentence in
            Sentence(words: sentence.words, labels: sentence.words.map(label(for:)), line: sentence.line)
        }
        return Corpus(path: corpus.path, sentences: sentences, crlfLineCount: corpus.crlfLineCount, firstCRLFLine: corpus.firstCRLFLine)
    }

    /// The stream that keeps these draws apart from every other use of the seed ("CTRL").
    static let stream: UInt64 = 0x4354_524C

    /// FNV-1a, 64 bits (Fowler, Noll & Vo): offset basis 0xcbf29ce484222325, prime 0x100000001b3.
    static func fnv1a64<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
