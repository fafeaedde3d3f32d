import DissectCore
import Testing
@testable import DissectCorpus

/// Numbers a CoNLL or embeddings file controls never size an allocation unchecked.
@Suite struct CorpusBoundsTests {
    @Test func aSentenceLongerThanTheOffsetsAllowIsRejected() throws {
        // Lines 1–3 are one sentence of 3 × 4 bytes; the limit is 10 bytes.
        let text = "a O\nb O\nc O\n\nd O\n"
        let error = try #require(throws: DissectError.self) {
            try CoNLLReader.parse(Array(text.utf8), path: "long.conll", maximumSentenceBytes: 10)
        }
        #expect(error.kind == .input)
        #expect(error.description
            == "long.conll:3: the sentence that starts at line 1 runs past 10 bytes, more than dissect's 32-bit offsets allow; end sentences with blank lines")
        // Each sentence is counted on its own: blank lines start the count again.
        let corpus = try CoNLLReader.parse(Array("a O\nb O\n\nc O\nd O\n".utf8), path: "ok.conll", maximumSentenceBytes: 10)
        #expect(corpus.sentences.count == 2)
        #expect(CoNLLReader.maximumSentenceBytes == Int(Int32.max) - 1)
    }

    @Test func aWord2VecHeaderCountSizesNothing() throws {
        // The header's vocabulary size is never used to reserve memory.
        let embeddings = try Embeddings.parse(Array("999999999999999999 2\nthe 0.5 1\n".utf8), path: "w2v.txt")
        #expect(embeddings.words == ["the"] && embeddings.vectors == [0.5, 1] && embeddings.dimension == 2)
    }

    @Test func aWord2VecHeaderDimensionMustMatchTheVectors() throws {
        let error = try #require(throws: DissectError.self) {
            try Embeddings.parse(Array("3 999999999999999999\nthe 0.5 1\n".utf8), path: "w2v.txt")
        }
        #expect(error.description.hasPrefix("w2v.txt:2: the vector has 2 numbers but the header (line 1) says 999999999999999999"))
    }

    @Test func aHeaderTooLongForAnIntegerIsAVectorLine() throws {
        // 19 digits are not read as a count (no overflow): the line is a word with one number.
        let embeddings = try Embeddings.parse(Array("9999999999999999999 2\n".utf8), path: "w.txt")
        #expect(embeddings.words == ["9999999999999999999"] && embeddings.dimension == 1)
    }
}
