import DissectCore
import Foundation
import Testing
@testable import DissectCorpus

/// Every property of `TokenProperties`, worked by hand on one sentence.
@Suite struct TokenPropertyTests {
    static let words = ["The", "U.S.", "team", "beat", "Bayern", "Munich", "FC", "3-0", "on", "Tuesday", "."]
    static let labels = ["O", "B-LOC", "O", "O", "B-ORG", "I-ORG", "I-ORG", "O", "O", "O", "O"]
    static let corpus = Corpus(path: "hand.txt", sentences: [Sentence(words: words, labels: labels, line: 1)])

    func property(_ name: String, in properties: [TokenProperty]) throws -> TokenProperty {
        try #require(properties.first { $0.name == name }, "no property \(name)")
    }

    @Test func everyComputedPropertyOnAHandWrittenSentence() throws {
        // "The" 12 times, "team" once, "1-2" once (read as 0-0, as is "3-0") in the training file.
        let training = Corpus(path: "train.txt", sentences: [
            Sentence(words: Array(repeating: "The", count: 12) + ["team", "1-2"], labels: Array(repeating: "O", count: 14), line: 1),
        ])
        let frequency = TokenProperties.WordFrequency(corpus: training, digitsToZero: true)
        let unknown = Self.words.map { $0 == "Bayern" }
        let properties = TokenProperties.computed(corpus: Self.corpus, frequency: frequency, unknown: unknown)
        #expect(properties.map(\.name) == TokenProperties.computedNames)
        // yes = 0, no = 1.
        #expect(try property("capitalised", in: properties).assignments == [0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1])
        #expect(try property("all caps", in: properties).assignments == [1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1])
        #expect(try property("has digit", in: properties).assignments == [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1])
        #expect(try property("punctuation", in: properties).assignments == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
        // yes, no, start.
        #expect(try property("previous capitalised", in: properties).assignments == [2, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0])
        // outside, first, inside, last, single.
        #expect(try property("entity position", in: properties).assignments == [0, 4, 0, 0, 1, 2, 3, 0, 0, 0, 0])
        // outside, 1, 2, 3, 4+.
        #expect(try property("entity length", in: properties).assignments == [0, 1, 0, 0, 3, 3, 3, 0, 0, 0, 0])
        // 1, 2, 3-5, 6-10, 11-20, 21+.
        #expect(try property("sentence position", in: properties).assignments == [0, 1, 2, 2, 2, 3, 3, 3, 3, 3, 4])
        // unseen, 1, 2-9, 10-99, 100-999, 1000+.
        #expect(try property("training frequency", in: properties).assignments == [3, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0])
        #expect(try property("unknown word", in: properties).assignments == [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1])
        #expect(try property("entity position", in: properties).counts == [7, 1, 1, 1, 1])
    }

    @Test func withoutFrequencyOrVocabularyThoseTwoAreLeftOut() {
        let names = TokenProperties.computed(corpus: Self.corpus, frequency: nil, unknown: nil).map(\.name)
        #expect(names == Array(TokenProperties.computedNames.prefix(8)))
    }

    @Test func bandsAtTheirEdges() {
        #expect([1, 2, 3, 5, 6, 10, 11, 20, 21, 500].map(TokenProperties.positionBand) == [0, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect([0, 1, 2, 9, 10, 99, 100, 999, 1000, 50_000].map(TokenProperties.frequencyBand) == [0, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(TokenProperties.entityPlaces(["B-PER", "I-PER", "I-PER", "I-PER", "I-PER"]).length == [4, 4, 4, 4, 4])
        // A stray I- starts an entity, as conlleval reads it.
        #expect(TokenProperties.entityPlaces(["O", "I-LOC", "O"]).position == [0, 4, 0])
    }

    @Test func wordShapes() {
        #expect(TokenProperties.isCapitalised("Édith") && !TokenProperties.isCapitalised("iPhone") && !TokenProperties.isCapitalised("1990"))
        #expect(TokenProperties.isAllCaps("I") && TokenProperties.isAllCaps("U.S.") && !TokenProperties.isAllCaps("1990") && !TokenProperties.isAllCaps("USd"))
        #expect(TokenProperties.isPunctuation("--") && TokenProperties.isPunctuation("$") && !TokenProperties.isPunctuation("U.S.") && !TokenProperties.isPunctuation(""))
        #expect(TokenProperties.hasDigit("A4") && !TokenProperties.hasDigit("four"))
    }

    @Test func aColumnIsAPropertyWithItsValuesSorted() throws {
        let text = "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n"
        let corpus = try CoNLLReader.parse(Array(text.utf8), path: "four.txt")
        #expect(corpus.columnCount == 4)
        let pos = try TokenProperties.column("pos", column: 2, corpus: corpus, columnCorpus: CoNLLReader.parse(Array(text.utf8), path: "four.txt", tagColumn: 2))
        #expect(pos.values == ["NNP", "VBZ"] && pos.assignments == [0, 1, 0] && pos.source == "column 2")
        // Another file's tokens do not line up: an input error naming the file.
        let other = try CoNLLReader.parse(Array("EU NNP\n".utf8), path: "other.txt")
        #expect(throws: DissectError.self) { try TokenProperties.column("pos", column: 2, corpus: corpus, columnCorpus: other) }
    }
}
