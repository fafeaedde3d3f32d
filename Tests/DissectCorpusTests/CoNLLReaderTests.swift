import DissectCore
import Foundation
import Testing
@testable import DissectCorpus

@Suite struct CoNLLReaderTests {
    @Test func readsSentencesLabelsAndLines() throws {
        let text = """
        -DOCSTART- -X- -X- O

        EU NNP B-NP B-ORG
        rejects VBZ B-VP O
        German JJ B-NP B-MISC

        Peter NNP B-NP B-PER
        Blackburn NNP I-NP I-PER
        -DOCSTART- -X- -X- O
        Next JJ B-NP O

        """
        let corpus = try CoNLLReader.parse(TestSupport.bytes(text), path: "toy.txt")
        #expect(corpus.sentences.count == 3)
        #expect(corpus.sentences[0] == Sentence(words: ["EU", "rejects", "German"], labels: ["B-ORG", "O", "B-MISC"], line: 3))
        #expect(corpus.sentences[1] == Sentence(words: ["Peter", "Blackburn"], labels: ["B-PER", "I-PER"], line: 7))
        // -DOCSTART- ends a sentence even without a blank line.
        #expect(corpus.sentences[2] == Sentence(words: ["Next"], labels: ["O"], line: 10))
        #expect(corpus.tokenCount == 6)
        #expect(corpus.labelSet == ["B-MISC", "B-ORG", "B-PER", "I-PER", "O"])
        #expect(corpus.path == "toy.txt")
    }

    @Test func toleratesCRLFTabsAndExtraWhitespace() throws {
        let text = "  a\tX \t B-PER  \r\n\r\n \t \r\n\r\nb X\tO\r\nc  X   I-LOC\r\n"
        let corpus = try CoNLLReader.parse(TestSupport.bytes(text), path: "crlf.txt")
        #expect(corpus.sentences.map(\.words) == [["a"], ["b", "c"]])
        #expect(corpus.sentences.map(\.labels) == [["B-PER"], ["O", "I-LOC"]])
        #expect(corpus.sentences.map(\.line) == [1, 5])
    }

    @Test func noTrailingNewlineAndManyBlankLines() throws {
        let corpus = try CoNLLReader.parse(TestSupport.bytes("\n\n\na O\n\n\n\nb O"), path: "p")
        #expect(corpus.sentences.map(\.words) == [["a"], ["b"]])
        #expect(corpus.sentences.map(\.line) == [4, 8])
    }

    @Test func tagColumnPicksAColumn() throws {
        let text = "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"
        let pos = try CoNLLReader.parse(TestSupport.bytes(text), path: "p", tagColumn: 2)
        #expect(pos.sentences[0].labels == ["NNP", "VBZ"])
        let chunks = try CoNLLReader.parse(TestSupport.bytes(text), path: "p", tagColumn: 3)
        #expect(chunks.sentences[0].labels == ["B-NP", "B-VP"])
        let words = try CoNLLReader.parse(TestSupport.bytes(text), path: "p", tagColumn: 1)
        #expect(words.sentences[0].labels == ["EU", "rejects"])
    }

    @Test func keepsNonASCIIWords() throws {
        let corpus = try CoNLLReader.parse(TestSupport.bytes("Müller B-PER\n東京 B-LOC\n"), path: "p")
        #expect(corpus.sentences[0].words == ["Müller", "東京"])
    }

    @Test func errorsNameFileLineAndFix() {
        func message(_ text: String, tagColumn: Int? = nil) -> String {
            let error = TestSupport.dissectError {
                _ = try CoNLLReader.parse(TestSupport.bytes(text), path: "bad.txt", tagColumn: tagColumn)
            }
            return error?.description ?? "no error"
        }
        let single = message("a O\n\nlonely\n")
        #expect(single.hasPrefix("bad.txt:3: "))
        #expect(single.contains("single column"))
        #expect(single.contains("; "))

        let ragged = message("a NN O\nb NN O\n\nc O\n")
        #expect(ragged.hasPrefix("bad.txt:4: "))
        #expect(ragged.contains("2 columns"))
        #expect(ragged.contains("line 1"))

        let column = message("a NN O\nb NN O\n", tagColumn: 4)
        #expect(column.hasPrefix("bad.txt:1: "))
        #expect(column.contains("3 columns"))

        let zeroColumn = TestSupport.dissectError {
            _ = try CoNLLReader.parse(TestSupport.bytes("a O\n"), path: "bad.txt", tagColumn: 0)
        }
        #expect(zeroColumn?.kind == .usage)

        #expect(message("").hasPrefix("bad.txt:1: the file is empty"))
        #expect(message("\n \n\t\r\n").hasPrefix("bad.txt:"))
        #expect(message("\n \n\t\r\n").contains("empty"))
        let onlyMarkers = message("-DOCSTART- -X- O\n\n-DOCSTART- -X- O\n")
        #expect(onlyMarkers.contains("no sentences"))
        #expect(onlyMarkers.hasPrefix("bad.txt:"))

        var invalid = TestSupport.bytes("a O\nb O\n")
        invalid.append(contentsOf: [0x63, 0xFF, 0x20, 0x4F, 0x0A])   // "c\xFF O"
        let utf8Error = TestSupport.dissectError {
            _ = try CoNLLReader.parse(invalid, path: "bad.txt")
        }
        #expect(utf8Error?.description.hasPrefix("bad.txt:3: ") == true)
        #expect(utf8Error?.description.contains("UTF-8") == true)
        #expect(utf8Error?.kind == .input)
    }

    @Test func missingFileNamesThePath() {
        let error = TestSupport.dissectError {
            _ = try CoNLLReader.read(path: "/nonexistent/dir/train.txt")
        }
        #expect(error?.kind == .input)
        #expect(error?.description.hasPrefix("/nonexistent/dir/train.txt: ") == true)
        #expect(error?.fix.contains("/nonexistent/dir/train.txt") == true)
    }

    @Test func readsFromDisk() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/small.txt"
        try AtomicFile.write("a B-PER\nb O\n", to: path)
        let corpus = try CoNLLReader.read(path: path)
        #expect(corpus.sentences.count == 1)
        #expect(corpus.path == path)
    }

    @Test(
        "Real CoNLL-2003 splits have the published sizes",
        .enabled(if: TestSupport.sharedOrCI("data/conll2003/train.txt", "data/conll2003/valid.txt", "data/conll2003/test.txt"),
                 "CoNLL-2003 data not present (CI=true makes this a failure)"),
        arguments: [("train", 14_041, 203_621), ("valid", 3_250, 51_362), ("test", 3_453, 46_435)])
    func realSplits(name: String, sentences: Int, tokens: Int) throws {
        let path = try TestSupport.requireShared("data/conll2003/\(name).txt")
        let corpus = try CoNLLReader.read(path: path)
        #expect(corpus.sentences.count == sentences)
        #expect(corpus.tokenCount == tokens)
        #expect(corpus.labelSet == ["B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O"])
        if name == "train" {
            #expect(corpus.sentences[0].words == ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."])
            #expect(corpus.sentences[0].line == 3)
        }
    }
}
