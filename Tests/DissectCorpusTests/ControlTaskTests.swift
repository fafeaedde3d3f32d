import DissectCore
import Foundation
import Testing
@testable import DissectCorpus

/// The control task (Hewitt & Liang 2019): one label per word type, a pure
/// function of (seed, type) drawn from the training label distribution.
@Suite struct ControlTaskTests {
    static let labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    static let counts = [80, 8, 6, 4, 2]

    static func task(seed: UInt64 = 1, digitsToZero: Bool = true) throws -> ControlTask {
        try ControlTask(seed: seed, labels: labels, counts: counts, digitsToZero: digitsToZero)
    }

    /// 1,000 labels of count 1: the label index is ⌊r · 1000 / 2^64⌋, about 10 bits of each draw.
    static func uniform(seed: UInt64, digitsToZero: Bool = true) throws -> ControlTask {
        try ControlTask(
            seed: seed, labels: (0..<1000).map { "L\($0)" }, counts: [Int](repeating: 1, count: 1000), digitsToZero: digitsToZero)
    }

    /// The `index`-th of distinct digit-free words ("a", "b", …, "ba", …): with digits
    /// normalised, "w1" and "w2" would be one type.
    static func word(_ index: Int) -> String {
        var letters: [Character] = []
        var rest = index
        repeat {
            letters.append(Character(Unicode.Scalar(UInt8(97 + rest % 26))))
            rest /= 26
        } while rest > 0
        return "w" + String(letters.reversed())
    }

    static func corpus(_ sentences: [[(String, String)]], path: String = "data.conll") -> Corpus {
        Corpus(path: path, sentences: sentences.enumerated().map { index, tokens in
            Sentence(words: tokens.map(\.0), labels: tokens.map(\.1), line: 1 + 10 * index)
        }, crlfLineCount: 2, firstCRLFLine: 5)
    }

    /// The published FNV-1a 64 test vectors.
    @Test func fnv1a64MatchesItsReferenceValues() {
        #expect(ControlTask.fnv1a64("".utf8) == 0xCBF2_9CE4_8422_2325)
        #expect(ControlTask.fnv1a64("a".utf8) == 0xAF63_DC4C_8601_EC8C)
        #expect(ControlTask.fnv1a64("foobar".utf8) == 0x8594_4171_F739_67E8)
    }

    /// Pinned so the hash, the stream or the inverse CDF can never change
    /// silently (a change relabels every control model). The values were
    /// computed by an independent Python transcription of the definition.
    @Test func goldenLabels() throws {
        let words = ["the", "Paris", "paris", "1996", "", "Köln", "-DOCSTART-"]
        let expected: [UInt64: [Int]] = [
            1: [681, 317, 238, 595, 932, 874, 915],
            2: [581, 493, 720, 366, 451, 549, 359],
            12345: [213, 82, 28, 500, 289, 837, 912],
        ]
        for (seed, indices) in expected {
            let task = try Self.uniform(seed: seed)
            #expect(words.map(task.labelIndex(for:)) == indices, "seed \(seed)")
        }
        let skewed = try ControlTask(seed: 1, labels: ["O", "B-PER", "I-PER", "B-LOC"], counts: [80, 10, 6, 4], digitsToZero: true)
        #expect(["the", "Paris", "John", "said", "Smith", "0"].map(skewed.label(for:)) == ["O", "O", "O", "B-PER", "O", "B-PER"])
    }

    @Test func theSameSeedAndTypeGiveTheSameLabelEverywhere() throws {
        let first = try Self.task(seed: 3), second = try Self.task(seed: 3)
        let words = (0..<300).map(Self.word) + ["Paris", "the", "Smith"]
        #expect(words.map(first.label(for:)) == words.map(second.label(for:)), "two tasks of one seed agree")
        #expect(words.map(first.label(for:)) == words.map(first.label(for:)), "repeated calls agree")

        // Across train, dev and test: every token of a type carries one label, including a type only dev and test have.
        let train = Self.corpus([[("Paris", "B-LOC"), ("said", "O")], [("the", "O"), ("Paris", "B-LOC")]], path: "train")
        let dev = Self.corpus([[("said", "O"), ("Lima", "B-LOC"), ("Paris", "B-LOC")]], path: "dev")
        let test = Self.corpus([[("Lima", "B-LOC"), ("the", "O")]], path: "test")
        var seen: [String: String] = [:]
        for corpus in [train, dev, test].map(first.relabel) {
            for sentence in corpus.sentences {
                for (word, label) in zip(sentence.words, sentence.labels) {
                    #expect(seen[word, default: label] == label, "\(word) in \(corpus.path)")
                    seen[word] = label
                    #expect(label == first.label(for: word))
                }
            }
        }
        #expect(seen.count == 4)
    }

    @Test func anotherSeedChangesSomeLabels() throws {
        // With 1,000 equally likely labels two seeds agree on a type with probability 1/1000.
        let one = try Self.uniform(seed: 1), two = try Self.uniform(seed: 2)
        let words = (0..<200).map(Self.word)
        let differing = words.filter { one.labelIndex(for: $0) != two.labelIndex(for: $0) }.count
        #expect(differing >= 190, "\(differing) of 200 types changed label")
        // And with the real-looking skewed distribution some still change.
        let a = try Self.task(seed: 1), b = try Self.task(seed: 2)
        #expect(words.contains { a.label(for: $0) != b.label(for: $0) })
    }

    @Test func digitsAreNormalisedAsTheVocabularyNormalisesThem() throws {
        for seed: UInt64 in 1...20 {
            let task = try Self.uniform(seed: seed)
            #expect(task.labelIndex(for: "1996") == task.labelIndex(for: "2001"), "seed \(seed)")
            #expect(task.labelIndex(for: "A4-b12") == task.labelIndex(for: "A9-b77"), "seed \(seed)")
            #expect(task.labelIndex(for: "１２") == task.labelIndex(for: "00"), "full-width digits are digits, seed \(seed)")
        }
        // Without digit normalisation, and for case (kept), they are distinct types: with
        // 1,000 labels, 20 seeds all agreeing by chance has probability 10^-60.
        let kept = try (1...20).map { try Self.uniform(seed: $0, digitsToZero: false) }
        #expect(kept.contains { $0.labelIndex(for: "1996") != $0.labelIndex(for: "2001") })
        let cased = try (UInt64(1)...20).map { try Self.uniform(seed: $0) }
        #expect(cased.contains { $0.labelIndex(for: "Paris") != $0.labelIndex(for: "paris") })
    }

    /// Over K distinct types each label's share f_j is a binomial proportion
    /// with mean p_j = c_j / C and standard deviation σ_j = √(p_j (1 − p_j) / K);
    /// the bound is 5 σ_j (a correct draw exceeds it with probability < 6·10⁻⁷
    /// per label). A label of count 0 never occurs.
    @Test func theLabelsFollowTheTrainingDistribution() throws {
        let counts = [70, 0, 15, 10, 5]
        let task = try ControlTask(seed: 7, labels: Self.labels, counts: counts, digitsToZero: true)
        let K = 40_000
        var drawn = [Int](repeating: 0, count: counts.count)
        for index in 0..<K { drawn[task.labelIndex(for: Self.word(index))] += 1 }
        let total = Double(counts.reduce(0, +))
        for (j, count) in counts.enumerated() {
            let p = Double(count) / total
            let f = Double(drawn[j]) / Double(K)
            let sigma = (p * (1 - p) / Double(K)).squareRoot()
            #expect(abs(f - p) <= 5 * sigma, "\(Self.labels[j]): share \(f), expected \(p) ± \(5 * sigma)")
        }
        #expect(drawn[1] == 0, "B-PER has count 0 and is never drawn")
        #expect(drawn[0] > 0 && drawn[4] > 0)
    }

    @Test func relabelKeepsEverythingButTheLabelsAndUsesTheRealLabelSet() throws {
        let task = try Self.task(seed: 5)
        let corpus = Self.corpus([[("John", "B-PER"), ("met", "O"), ("Mary", "B-PER")], [("in", "O"), ("Oslo", "B-LOC")]])
        let relabelled = task.relabel(corpus)
        #expect(relabelled.path == corpus.path)
        #expect(relabelled.sentences.map(\.words) == corpus.sentences.map(\.words))
        #expect(relabelled.sentences.map(\.line) == corpus.sentences.map(\.line))
        #expect(relabelled.crlfLineCount == 2 && relabelled.firstCRLFLine == 5)
        #expect(relabelled.tokenCount == corpus.tokenCount)
        #expect(Set(relabelled.labelSet).isSubset(of: Self.labels))
        #expect(relabelled.labelSet == Set(relabelled.sentences.flatMap(\.labels)).sorted(), "labelSet is recomputed")
        // Over many types every label of positive count occurs, and no other.
        let many = Self.corpus([(0..<2000).map { (Self.word($0), "O") }])
        #expect(Set(task.relabel(many).labelSet) == Set(Self.labels))
    }

    @Test func labelCountsAreTokenCountsInVocabularyOrder() {
        let corpus = Self.corpus([[("a", "O"), ("b", "B-PER"), ("c", "O")], [("d", "I-PER"), ("e", "O"), ("f", "X")]])
        #expect(ControlTask.labelCounts(of: corpus, labels: ["B-PER", "O", "I-PER", "B-LOC"]) == [1, 3, 1, 0])
    }

    @Test func badDistributionsAreRejected() {
        func problem(_ labels: [String], _ counts: [Int]) -> String? {
            do {
                _ = try ControlTask(seed: 1, labels: labels, counts: counts, digitsToZero: true)
                return nil
            } catch {
                return error.problem
            }
        }
        #expect(problem([], []) == "there are no labels to draw from")
        #expect(problem(["O", "B-PER"], [3]) == "it gives 1 label counts for 2 labels")
        #expect(problem(["O", "B-PER"], [3, -1]) == "the count of B-PER is -1, below 0")
        #expect(problem(["O", "B-PER"], [0, 0]) == "the label counts sum to 0")
        #expect(problem(["O", "B-PER"], [Int.max, 1]) == "the label counts sum to more than \(Int.max)")
        #expect(problem(["O", "B-PER"], [Int.max, 0]) == nil, "the largest total still works")
        #expect(problem(["O"], [1]) == nil)
    }

    @Test func aLargeTotalStillDrawsEveryLabel() throws {
        // ⌊r·C / 2^64⌋ in full width: no overflow and no bias toward the first label at C near Int.max.
        let task = try ControlTask(seed: 1, labels: ["a", "b"], counts: [Int.max / 2, Int.max / 2], digitsToZero: true)
        let drawn = Set((0..<64).map { task.label(for: Self.word($0)) })
        #expect(drawn == ["a", "b"])
    }
}
