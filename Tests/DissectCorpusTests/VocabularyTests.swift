import DissectCore
import Foundation
import Testing
@testable import DissectCorpus

@Suite struct VocabularyTests {
    @Test func digitNormalisation() {
        #expect(normalizeDigits("1996") == "0000")
        #expect(normalizeDigits("A4-b12") == "A0-b00")
        #expect(normalizeDigits("no digits") == "no digits")
        #expect(normalizeDigits("") == "")
        // Other Unicode decimal digits (category Nd), as Python's \d.
        #expect(normalizeDigits("٣٤x") == "00x")          // Arabic-Indic
        #expect(normalizeDigits("１２") == "00")           // full-width
        #expect(normalizeDigits("१९") == "00")            // Devanagari
        // Not decimal digits: superscripts, fractions, Roman numerals.
        #expect(normalizeDigits("x²½Ⅳ") == "x²½Ⅳ")
    }

    @Test func vocabularyAddsAndLooksUp() throws {
        var vocabulary = Vocabulary()
        #expect(vocabulary.count == 0)
        #expect(vocabulary.add("a") == 0)
        #expect(vocabulary.add("b") == 1)
        #expect(vocabulary.add("a") == 0)
        #expect(vocabulary.items == ["a", "b"])
        #expect(vocabulary.index(of: "b") == 1)
        #expect(vocabulary.index(of: "c") == nil)
        #expect(vocabulary == Vocabulary(items: ["a", "b"]))
        let data = try JSONEncoder().encode(vocabulary)
        #expect(String(decoding: data, as: UTF8.self) == #"{"items":["a","b"]}"#)
        let decoded = try JSONDecoder().decode(Vocabulary.self, from: data)
        #expect(decoded == vocabulary)
        #expect(decoded.index(of: "b") == 1)
    }

    static let training = [
        Sentence(words: ["EU", "rejects", "1996", "EU"], labels: ["B-ORG", "O", "O", "B-ORG"], line: 1),
        Sentence(words: ["Peter", "2004", "é"], labels: ["B-PER", "O", "O"], line: 6),
    ]

    @Test func wordVocabularyOrder() throws {
        let embeddings = try Embeddings.parse(TestSupport.bytes("the 1 2\npeter 3 4\nEU 5 6\n1996 7 8\n"), path: "e")
        let plain = VocabularyBuilder.words(training: Self.training, embeddings: nil, includeEmbeddingWords: true, digitsToZero: false)
        #expect(plain.items == ["<unk>", "EU", "rejects", "1996", "Peter", "2004", "é"])
        let zeroed = VocabularyBuilder.words(training: Self.training, embeddings: embeddings, includeEmbeddingWords: true, digitsToZero: true)
        #expect(zeroed.items == ["<unk>", "EU", "rejects", "0000", "Peter", "é", "the", "peter", "1996"])
        let trainingOnly = VocabularyBuilder.words(training: Self.training, embeddings: embeddings, includeEmbeddingWords: false, digitsToZero: true)
        #expect(trainingOnly.items == ["<unk>", "EU", "rejects", "0000", "Peter", "é"])
    }

    @Test func characterAndLabelVocabularies() {
        let characters = VocabularyBuilder.characters(training: Self.training, digitsToZero: true)
        #expect(characters.items == ["<unk>", "E", "U", "r", "e", "j", "c", "t", "s", "0", "P", "é"])
        // A decomposed é is two scalars, as Python counts it.
        let decomposed = [Sentence(words: ["e\u{301}"], labels: ["O"], line: 1)]
        #expect(VocabularyBuilder.characters(training: decomposed, digitsToZero: false).items == ["<unk>", "e", "\u{301}"])
        #expect(VocabularyBuilder.characters(training: Self.training, digitsToZero: false).items.contains("9"))
        #expect(VocabularyBuilder.labels(training: Self.training).items == ["B-ORG", "O", "B-PER"])
    }

    @Test func lookupRule() {
        let vocabulary = Vocabulary(items: ["<unk>", "eu", "EU", "0000", "paris"])
        let lookup = WordLookup(vocabulary: vocabulary, unknownIndex: 0, digitsToZero: true)
        #expect(lookup.index(of: "EU") == 2)        // exact first
        #expect(lookup.index(of: "Eu") == 1)        // then lower-cased
        #expect(lookup.index(of: "Paris") == 4)
        #expect(lookup.index(of: "1984") == 3)      // digits → 0 first
        #expect(lookup.index(of: "London") == 0)
        let raw = WordLookup(vocabulary: vocabulary, unknownIndex: 0, digitsToZero: false)
        #expect(raw.index(of: "1984") == 0)
        #expect(raw.index(of: "0000") == 3)
    }

    @Test func initialVectors() throws {
        let embeddings = try Embeddings.parse(TestSupport.bytes("EU 1 2 3 4\nparis 5 6 7 8\n"), path: "e")
        let vocabulary = Vocabulary(items: ["<unk>", "EU", "Paris", "unseen"])
        var rng = SplitMix64(seed: 42)
        let (vectors, stats) = initialWordVectors(vocabulary: vocabulary, embeddings: embeddings, dimension: 4, rng: &rng)
        #expect(stats == InitialEmbeddingStats(exact: 1, lowercased: 1, random: 2))
        #expect(vectors.count == 16)
        #expect(Array(vectors[4..<8]) == [1, 2, 3, 4])
        #expect(Array(vectors[8..<12]) == [5, 6, 7, 8])
        // Random rows: uniform in ±sqrt(3/4), drawn in vocabulary order.
        var replay = SplitMix64(seed: 42)
        let bound = (3.0 / 4.0).squareRoot()
        let expected = (0..<8).map { _ in Float(replay.uniform(-bound, bound)) }
        #expect(Array(vectors[0..<4]) + Array(vectors[12..<16]) == expected)

        var again = SplitMix64(seed: 42)
        #expect(initialWordVectors(vocabulary: vocabulary, embeddings: embeddings, dimension: 4, rng: &again).vectors == vectors)
        var other = SplitMix64(seed: 43)
        #expect(initialWordVectors(vocabulary: vocabulary, embeddings: embeddings, dimension: 4, rng: &other).vectors != vectors)
    }

    @Test func randomRowsStayInRange() {
        let vocabulary = Vocabulary(items: (0..<200).map { "w\($0)" })
        var rng = SplitMix64(seed: 1)
        let (vectors, stats) = initialWordVectors(vocabulary: vocabulary, embeddings: nil, dimension: 50, rng: &rng)
        #expect(stats.random == 200 && stats.exact == 0 && stats.lowercased == 0)
        let bound = Float((3.0 / 50.0).squareRoot())
        #expect(vectors.allSatisfy { abs($0) <= bound })
        #expect((vectors.max() ?? 0) > bound * 0.98 && (vectors.min() ?? 0) < -bound * 0.98)
        // Variance of U(−a, a) is a²/3 = 1/dim.
        let mean = vectors.reduce(0, +) / Float(vectors.count)
        let variance = vectors.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(vectors.count)
        #expect(abs(variance - 1.0 / 50) < 0.002)
    }

    @Test func mismatchedEmbeddingsAreIgnoredAndZeroDimensionIsEmpty() throws {
        let embeddings = try Embeddings.parse(TestSupport.bytes("a 1 2\n"), path: "e")
        var rng = SplitMix64(seed: 1)
        let (_, stats) = initialWordVectors(vocabulary: Vocabulary(items: ["a"]), embeddings: embeddings, dimension: 3, rng: &rng)
        #expect(stats.random == 1)
        let (empty, _) = initialWordVectors(vocabulary: Vocabulary(items: ["a"]), embeddings: nil, dimension: 0, rng: &rng)
        #expect(empty.isEmpty)
    }
}
