import DissectCorpus
import Foundation
import Testing

@Suite("data check: tag schemes, conversion, GloVe subset")
struct DataCheckTests {
    // "EU rejects German call ... Peter Blackburn", in three schemes.
    static let iob1 = """
        -DOCSTART- -X- -X- O

        EU NNP I-NP I-ORG
        rejects VBZ I-VP O
        German JJ I-NP I-MISC
        call NN I-NP O
        Peter NNP I-NP I-PER
        Blackburn NNP I-NP I-PER
        Mary NNP I-NP B-PER

        Bonn NNP I-NP I-LOC
        Paris NNP I-NP B-LOC

        """
    static let iob2 = """
        -DOCSTART- -X- -X- O

        EU NNP I-NP B-ORG
        rejects VBZ I-VP O
        German JJ I-NP B-MISC
        call NN I-NP O
        Peter NNP I-NP B-PER
        Blackburn NNP I-NP I-PER
        Mary NNP I-NP B-PER

        Bonn NNP I-NP B-LOC
        Paris NNP I-NP B-LOC

        """
    static let iobes = """
        -DOCSTART- -X- -X- O

        EU NNP I-NP S-ORG
        rejects VBZ I-VP O
        German JJ I-NP S-MISC
        call NN I-NP O
        Peter NNP I-NP B-PER
        Blackburn NNP I-NP E-PER
        Mary NNP I-NP S-PER

        Bonn NNP I-NP S-LOC
        Paris NNP I-NP S-LOC

        """

    static func labels(_ text: String) throws -> [[String]] {
        try CoNLLReader.parse(Array(text.utf8), path: "t").sentences.map(\.labels)
    }

    @Test("the scheme of each snippet is detected")
    func detection() throws {
        #expect(TagScheme.detect(try Self.labels(Self.iob1)) == .iob1)
        #expect(TagScheme.detect(try Self.labels(Self.iob2)) == .bio)
        #expect(TagScheme.detect(try Self.labels(Self.iobes)) == .iobes)
        #expect(TagScheme.detect([["O", "PER", "O"]]) == .notBIO)
        #expect(TagScheme.detect([["O", "O"]]) == .outsideOnly)
        // An I-X after a B-Y of another type starts an entity: IOB1.
        #expect(TagScheme.detect([["B-PER", "I-LOC"]]) == .iob1)
        // Sentences are independent: I-X at a sentence start is IOB1.
        #expect(TagScheme.detect([["B-PER"], ["I-PER"]]) == .iob1)
    }

    @Test("IOB1 and IOBES convert token by token to IOB2")
    func conversionByToken() throws {
        let expected = try Self.labels(Self.iob2)
        #expect(try Self.labels(Self.iob1).map(TagScheme.toBIO) == expected)
        #expect(try Self.labels(Self.iobes).map(TagScheme.toBIO) == expected)
        #expect(expected.map(TagScheme.toBIO) == expected, "IOB2 is kept")
        #expect(TagScheme.toBIO(["I-PER", "I-PER", "B-PER", "I-PER", "O", "I-LOC"]) == ["B-PER", "I-PER", "B-PER", "I-PER", "O", "B-LOC"])
        #expect(TagScheme.toBIO(["S-PER", "I-PER", "E-PER"]) == ["B-PER", "B-PER", "I-PER"])
    }

    @Test("converting a file keeps every other column, blank line and -DOCSTART- line byte for byte")
    func conversionKeepsBytes() throws {
        // Tabs, extra spaces, CRLF and several blank lines survive.
        let input = "-DOCSTART-\t-X- -X- O\r\n\r\n\r\nEU\tNNP  I-NP I-ORG\r\nrejects VBZ I-VP O\n  \nBonn NNP I-NP I-LOC"
        let result = try TagConversion.toBIO(Array(input.utf8), path: "t", tagColumn: nil)
        let expected = "-DOCSTART-\t-X- -X- O\r\n\r\n\r\nEU\tNNP  I-NP B-ORG\r\nrejects VBZ I-VP O\n  \nBonn NNP I-NP B-LOC"
        #expect(String(decoding: result.bytes, as: UTF8.self) == expected)
        #expect(result.changed == 2)

        let whole = try TagConversion.toBIO(Array(Self.iob1.utf8), path: "t", tagColumn: nil)
        #expect(String(decoding: whole.bytes, as: UTF8.self) == Self.iob2)
        let fromIOBES = try TagConversion.toBIO(Array(Self.iobes.utf8), path: "t", tagColumn: nil)
        #expect(String(decoding: fromIOBES.bytes, as: UTF8.self) == Self.iob2)
        // Every column but the tag is unchanged, line by line.
        let before = Self.iob1.split(separator: "\n", omittingEmptySubsequences: false)
        let after = String(decoding: whole.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(before.count == after.count)
        for (old, new) in zip(before, after) {
            #expect(old.split(separator: " ").dropLast() == new.split(separator: " ").dropLast())
        }
    }

    @Test("--tag-column converts the chosen column only")
    func conversionTagColumn() throws {
        let input = "EU I-ORG x\nrejects O y\n"
        let result = try TagConversion.toBIO(Array(input.utf8), path: "t", tagColumn: 2)
        #expect(String(decoding: result.bytes, as: UTF8.self) == "EU B-ORG x\nrejects O y\n")
    }

    @Test("-DOCSTART- lines are counted and the standard split rule needs all six numbers")
    func countsAndStandard() throws {
        let bytes = Array(Self.iob1.utf8)
        let corpus = try CoNLLReader.parse(bytes, path: "t")
        #expect(corpus.sentences.count == 2 && corpus.tokenCount == 9)
        let splits = DataCheck.standardSplits.map {
            SplitSummary(name: $0.name, path: $0.name, sentences: $0.sentences, tokens: $0.tokens, docstartLines: 0, labels: [], scheme: .bio)
        }
        #expect(DataCheck.isStandard(splits))
        var off = splits
        off[2].tokens += 1
        #expect(!DataCheck.isStandard(off))
    }

    @Test("the GloVe subset keeps the lines training can reach: as written, lower-cased, digits as 0")
    func gloveSubset() throws {
        let corpus = try CoNLLReader.parse(Array("EU B-ORG\nPeter B-PER\n1996 O\nX9 O\n".utf8), path: "t")
        let needed = GloveSubset.neededWords([corpus])
        let glove = "the 1 2\neu 3 4\nEU 5 6\npeter 7 8\n0000 9 9\n1996 1 1\nx0 2 2\nabsent 3 3\n"
        var filter = GloveSubset.Filter(needed: needed, path: "g", dimension: nil)
        // Fed in odd-sized chunks, as a pipe would.
        let bytes = Array(glove.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + 5, bytes.count)
            try filter.feed(bytes[start..<end])
            start = end
        }
        try filter.finish()
        #expect(String(decoding: filter.output, as: UTF8.self) == "eu 3 4\nEU 5 6\npeter 7 8\n0000 9 9\n1996 1 1\nx0 2 2\n")
        #expect(filter.dimension == 2 && filter.readLines == 8 && filter.keptLines == 6)

        var wrong = GloveSubset.Filter(needed: needed, path: "g", dimension: 3)
        #expect(throws: (any Error).self) { try wrong.feed(bytes); try wrong.finish() }
    }
}
