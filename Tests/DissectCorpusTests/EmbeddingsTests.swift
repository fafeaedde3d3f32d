import DissectCore
import Foundation
import Testing
@testable import DissectCorpus

@Suite struct EmbeddingsTests {
    @Test func readsGloVeText() throws {
        let text = "the 0.5 -1.25 3\nThe 1e-3 2.5E2 -0\r\n\nthe 9 9 9\nüber .5 -.5 7.\n"
        let embeddings = try Embeddings.parse(TestSupport.bytes(text), path: "g.txt")
        #expect(embeddings.dimension == 3)
        #expect(embeddings.words == ["the", "The", "über"])
        #expect(embeddings.duplicateCount == 1)
        #expect(embeddings.vectors.count == 9)
        // The first vector of a repeated word wins.
        #expect(embeddings.vector(for: "the").map(Array.init) == [0.5, -1.25, 3])
        #expect(embeddings.vector(for: "The").map(Array.init) == [0.001, 250, 0])
        #expect(embeddings.vector(for: "über").map(Array.init) == [0.5, -0.5, 7])
        #expect(embeddings.vector(for: "missing") == nil)
        #expect(embeddings.index["über"] == 2)
    }

    @Test func skipsWord2VecHeader() throws {
        let text = "2 4\nalpha 1 2 3 4\nbeta 5 6 7 8\n"
        let embeddings = try Embeddings.parse(TestSupport.bytes(text), path: "w2v.txt")
        #expect(embeddings.dimension == 4)
        #expect(embeddings.words == ["alpha", "beta"])
        #expect(embeddings.vector(for: "beta").map(Array.init) == [5, 6, 7, 8])
    }

    @Test func parsedNumbersEqualSwiftFloatParsing() throws {
        var rng = SplitMix64(seed: 3)
        var text = ""
        var expected: [Float] = []
        for row in 0..<50 {
            text += "w\(row)"
            for _ in 0..<10 {
                let value = Float(rng.uniform(-8, 8)) * (rng.nextUnit() < 0.1 ? 1e-6 : 1)
                let spelled = "\(value)"
                text += " " + spelled
                expected.append(Float(spelled) ?? .nan)
            }
            text += "\n"
        }
        let embeddings = try Embeddings.parse(TestSupport.bytes(text), path: "r.txt")
        #expect(embeddings.vectors == expected)
    }

    /// The byte-level fast path must give exactly the Float that Float(String) gives.
    @Test func fastDecimalPathIsCorrectlyRounded() {
        var rng = SplitMix64(seed: 17)
        var checked = 0
        for _ in 0..<20_000 {
            let digits = 1 + rng.nextIndex(below: 9)
            var spelled = rng.nextUnit() < 0.5 ? "-" : ""
            let point = rng.nextIndex(below: digits + 1)
            for position in 0..<digits {
                if position == point && position > 0 { spelled += "." }
                spelled += String(rng.nextIndex(below: 10))
            }
            if rng.nextUnit() < 0.3 { spelled += "e" + String(rng.nextIndex(below: 25) - 12) }
            let bytes = Array(spelled.utf8)
            let fast = bytes.withUnsafeBufferPointer { Embeddings.exactShortDecimal($0, 0..<bytes.count) }
            if let fast {
                #expect(fast == Float(spelled), "\(spelled)")
                #expect(fast.sign == Float(spelled)?.sign, "\(spelled)")
                checked += 1
            }
        }
        #expect(checked > 10_000)
        for text in ["", "-", ".", "e5", "1e", "1.2.3", "nan", "inf", "0x1p3", "123456789", "1e11", "1-2"] {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBufferPointer { Embeddings.exactShortDecimal($0, 0..<bytes.count) } == nil, "\(text)")
        }
    }

    @Test func errorsNameFileAndLine() {
        func message(_ text: String) -> String {
            TestSupport.dissectError { _ = try Embeddings.parse(TestSupport.bytes(text), path: "e.txt") }?.description
                ?? "no error"
        }
        let wrongDimension = message("a 1 2 3\nb 1 2\n")
        #expect(wrongDimension.hasPrefix("e.txt:2: "))
        #expect(wrongDimension.contains("2 numbers"))
        #expect(wrongDimension.contains("line 1 has 3"))

        let notNumber = message("a 1 2\nb 1 x2\n")
        #expect(notNumber.hasPrefix("e.txt:2: "))
        #expect(notNumber.contains("`x2`"))
        #expect(message("a 1 2\nb 1 2.5.1\n").hasPrefix("e.txt:2: "))
        #expect(message("a 1 nan\n").hasPrefix("e.txt:1: "))
        #expect(message("a 1 nan\n").contains("NaN"))
        #expect(message("a 1 2\nb inf 2\n").hasPrefix("e.txt:2: "))
        #expect(message("a 1 2\nb -Infinity 2\n").hasPrefix("e.txt:2: "))
        #expect(message("a 1 2\nb 1e99 2\n").hasPrefix("e.txt:2: "))
        #expect(message("").hasPrefix("e.txt:1: the embeddings file is empty"))
        #expect(message("\n  \n").contains("empty"))
        #expect(message("3 5\n").contains("no vectors"))
        #expect(message("wordonly\n").hasPrefix("e.txt:1: "))
        let header = message("2 3\na 1 2\n")
        #expect(header.hasPrefix("e.txt:2: "))
        #expect(header.contains("header"))
        #expect(message("a 1 2\n\u{FF}b 1 2\n").contains("no error"))   // U+00FF is valid UTF-8
        let invalid = TestSupport.dissectError {
            _ = try Embeddings.parse(TestSupport.bytes("a 1\n") + [0xC3, 0x28, 0x20, 0x31, 0x0A], path: "e.txt")
        }
        #expect(invalid?.description.hasPrefix("e.txt:2: ") == true)
        #expect(invalid?.description.contains("UTF-8") == true)
    }

    @Test func missingFileAndDimensionCheck() throws {
        let missing = TestSupport.dissectError { _ = try Embeddings.read(path: "/nonexistent/glove.txt") }
        #expect(missing?.description.hasPrefix("/nonexistent/glove.txt: ") == true)
        let embeddings = try Embeddings.parse(TestSupport.bytes("a 1 2\n"), path: "e.txt")
        #expect(throws: Never.self) { try embeddings.requireDimension(2, path: "e.txt", flag: "--word-dim") }
        let mismatch = TestSupport.dissectError { try embeddings.requireDimension(50, path: "e.txt", flag: "--word-dim") }
        #expect(mismatch?.fix.contains("--word-dim 2") == true)
    }

    @Test(.enabled(if: TestSupport.sharedFile("data/glove/glove.6B.50d.conll2003.txt") != nil, "GloVe file not present"))
    func readsRealGloVe() throws {
        guard let path = TestSupport.sharedFile("data/glove/glove.6B.50d.conll2003.txt") else { return }
        let embeddings = try Embeddings.read(path: path)
        #expect(embeddings.dimension == 50)
        #expect(embeddings.words.count == 22_973)
        #expect(embeddings.vectors.count == 22_973 * 50)
        #expect(embeddings.words.first == "the")
        #expect(embeddings.vector(for: "the")?.first == 0.418)
        // Every number of the first 1,000 lines equals Float(String).
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)).prefix(600_000), as: UTF8.self)
        for (row, line) in text.split(separator: "\n").prefix(1_000).enumerated() {
            let numbers = line.split(separator: " ").dropFirst().map { Float(String($0)) }
            #expect(numbers == Array(embeddings.vectors[(row * 50)..<((row + 1) * 50)]), "line \(row + 1)")
        }
    }
}
