import DissectCore
import Foundation
import Testing
@testable import DissectCorpus

/// A hand-made set of sentences with stray I-X tags: I-X at the sentence
/// start, I-X after O, I-X after B-Y and I-X after I-Y, in gold and predictions.
enum HandMade {
    static let sentences: [[(word: String, gold: String, predicted: String)]] = [
        [("w1", "B-PER", "I-PER"), ("w2", "I-PER", "I-PER"), ("w3", "O", "O"), ("w4", "B-LOC", "I-LOC"), ("w5", "O", "O")],
        [("w1", "B-ORG", "B-ORG"), ("w2", "I-ORG", "I-MISC"), ("w3", "O", "O"), ("w4", "B-MISC", "B-PER"),
         ("w5", "I-MISC", "I-PER"), ("w6", "I-MISC", "I-LOC"), ("w7", "O", "O")],
        [("w1", "B-PER", "B-PER"), ("w2", "I-PER", "I-PER"), ("w3", "O", "O"), ("w4", "B-LOC", "B-LOC")],
        [("w1", "I-ORG", "I-ORG"), ("w2", "O", "B-ORG"), ("w3", "B-MISC", "B-MISC"), ("w4", "I-MISC", "O")],
    ]
    static var gold: [[String]] { sentences.map { $0.map(\.gold) } }
    static var predicted: [[String]] { sentences.map { $0.map(\.predicted) } }

    /// What `perl conlleval.pl` prints for this file (checked by hand and with perl).
    static let conllevalOutput = """
    processed 20 tokens with 8 phrases; found: 11 phrases; correct: 5.
    accuracy:  60.00%; precision:  45.45%; recall:  62.50%; FB1:  52.63
                  LOC: precision:  66.67%; recall: 100.00%; FB1:  80.00  3
                 MISC: precision:   0.00%; recall:   0.00%; FB1:   0.00  2
                  ORG: precision:  33.33%; recall:  50.00%; FB1:  40.00  3
                  PER: precision:  66.67%; recall: 100.00%; FB1:  80.00  3

    """
}

/// Writes `word gold predicted` lines with a blank line after every sentence
/// and runs conlleval.pl on them; nil when perl or the script is missing.
func runConlleval(gold: [[String]], predicted: [[String]], script: String) throws -> String? {
    var text = ""
    for (goldLabels, guessLabels) in zip(gold, predicted) {
        for (index, (goldLabel, guessLabel)) in zip(goldLabels, guessLabels).enumerated() {
            text += "w\(index) \(goldLabel) \(guessLabel)\n"
        }
        text += "\n"
    }
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let input = directory + "/input.txt"
    try AtomicFile.write(text, to: input)
    guard let inputHandle = FileHandle(forReadingAtPath: input) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["perl", script]
    process.standardInput = inputHandle
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self)
}

@Suite struct ScoringTests {
    @Test func conllevalChunksOfStrayTags() {
        let chunks = Chunker.chunks(["I-PER", "I-PER", "O", "I-LOC", "B-ORG", "I-MISC", "I-MISC", "B-PER"], scheme: .conlleval)
        #expect(chunks == [
            Chunk(type: "PER", start: 0, end: 2), Chunk(type: "LOC", start: 3, end: 4),
            Chunk(type: "ORG", start: 4, end: 5), Chunk(type: "MISC", start: 5, end: 7),
            Chunk(type: "PER", start: 7, end: 8),
        ])
        // IOBES and brackets follow conlleval's rules too.
        #expect(Chunker.chunks(["S-PER", "O", "B-LOC", "E-LOC", "E-LOC"], scheme: .conlleval) == [
            Chunk(type: "PER", start: 0, end: 1), Chunk(type: "LOC", start: 2, end: 4), Chunk(type: "LOC", start: 4, end: 5),
        ])
        #expect(Chunker.chunks([], scheme: .conlleval).isEmpty)
        #expect(Chunker.chunks(["NN", "VBZ", "O"], scheme: .conlleval).isEmpty)
    }

    @Test func ncrfDropsStrayInsideTags() {
        #expect(Chunker.chunks(["I-PER", "I-PER", "O", "I-LOC"], scheme: .ncrf).isEmpty)
        #expect(Chunker.chunks(["B-ORG", "I-MISC", "I-MISC", "B-PER", "I-PER", "I-LOC", "O"], scheme: .ncrf) == [
            Chunk(type: "ORG", start: 0, end: 1), Chunk(type: "PER", start: 3, end: 5),
        ])
        // Labels are upper-cased, so case does not matter; a chunk may run to the end.
        #expect(Chunker.chunks(["b-per", "I-Per", "O", "B-loc"], scheme: .ncrf) == [
            Chunk(type: "PER", start: 0, end: 2), Chunk(type: "LOC", start: 3, end: 4),
        ])
        // B- with no type opens nothing that is reported; S-/E- are "other" labels in BIO.
        #expect(Chunker.chunks(["B-", "I-", "S-PER", "B-X", "E-X"], scheme: .ncrf) == [Chunk(type: "X", start: 3, end: 4)])
    }

    @Test func handMadeFileMatchesConllevalLiterals() {
        let report = Evaluator.evaluate(gold: HandMade.gold, predicted: HandMade.predicted)
        #expect(report.tokens == 20)
        #expect(report.sentences == 4)
        #expect(report.goldChunks == 8)
        #expect(report.predictedChunks == 11)
        #expect(report.correctChunks == 5)
        #expect(abs(report.accuracy - 60) < 1e-12)
        #expect(abs(report.precision - 500.0 / 11) < 1e-12)
        #expect(abs(report.recall - 62.5) < 1e-12)
        #expect(abs(report.f1 - 1000.0 / 19) < 1e-12)
        #expect(report.types.map(\.type) == ["LOC", "MISC", "ORG", "PER"])
        #expect(report.types.map(\.goldCount) == [2, 2, 2, 2])
        #expect(report.types.map(\.predictedCount) == [3, 2, 3, 3])
        #expect(report.types.map(\.correctCount) == [2, 0, 1, 2])
        #expect(abs(report.types[2].f1 - 40) < 1e-12)
        #expect(report.isChunked)
        #expect(Evaluator.conllevalTable(report) == HandMade.conllevalOutput)
    }

    /// Worked by hand from get_ner_BIO: per sentence (gold, predicted, right) =
    /// (2, 0, 0) — every predicted I-X is stray; (2, 2, 0) — ORG[0,1) and PER[3,5)
    /// predicted, I-MISC and I-LOC dropped; (2, 2, 2); (1, 2, 0) — gold I-ORG
    /// dropped. Totals 7, 6, 2: P = 2/6, R = 2/7, F = 4/13.
    @Test func handMadeFileNCRFScores() {
        let report = Evaluator.evaluate(gold: HandMade.gold, predicted: HandMade.predicted)
        #expect(abs(report.ncrfPrecision - 100.0 * 2 / 6) < 1e-9)
        #expect(abs(report.ncrfRecall - 100.0 * 2 / 7) < 1e-9)
        #expect(abs(report.ncrfF1 - 100.0 * 4 / 13) < 1e-9)
    }

    @Test(.enabled(if: TestSupport.conllevalOrCI(), "conlleval.pl or perl not found (CI=true makes this a failure)"))
    func handMadeFileMatchesConllevalScript() throws {
        let script = try TestSupport.requireConlleval()
        let output = try runConlleval(gold: HandMade.gold, predicted: HandMade.predicted, script: script)
        #expect(output == HandMade.conllevalOutput)
    }

    /// Random sentences from `alphabet`; predictions are the gold with about a
    /// third of the labels replaced at random, so chunks partly agree.
    static func randomLabels(seed: UInt64, sentences: Int, alphabet: [String]) -> (gold: [[String]], predicted: [[String]]) {
        var rng = SplitMix64(seed: seed)
        var gold: [[String]] = []
        var predicted: [[String]] = []
        for _ in 0..<sentences {
            let length = 1 + rng.nextIndex(below: 12)
            let goldLabels = (0..<length).map { _ in alphabet[rng.nextIndex(below: alphabet.count)] }
            let guessLabels = goldLabels.map { label in
                rng.nextUnit() < 0.35 ? alphabet[rng.nextIndex(below: alphabet.count)] : label
            }
            gold.append(goldLabels)
            predicted.append(guessLabels)
        }
        return (gold, predicted)
    }

    static let bioAlphabet = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
    /// Labels that exercise conlleval's rarer rules: IOBES, brackets, ".",
    /// untyped prefixes, hyphenated types, the Perl-false type "0" and POS tags.
    static let oddAlphabet = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC",
                              "[", "]", ".", "B", "I", "E", "NN", "B-0", "I-A-B", "B-A-B", "[-PER", "]-LOC"]

    @Test(.enabled(if: TestSupport.conllevalOrCI(), "conlleval.pl or perl not found (CI=true makes this a failure)"),
          arguments: [(UInt64(1), false), (2, false), (3, false), (4, false), (5, true), (6, true)])
    func randomLabelsMatchConllevalScript(seed: UInt64, odd: Bool) throws {
        let script = try TestSupport.requireConlleval()
        let (gold, predicted) = Self.randomLabels(
            seed: seed, sentences: 120, alphabet: odd ? Self.oddAlphabet : Self.bioAlphabet)
        let output = try runConlleval(gold: gold, predicted: predicted, script: script)
        #expect(output != nil, "perl conlleval.pl failed")
        let report = Evaluator.evaluate(gold: gold, predicted: predicted)
        #expect(Evaluator.conllevalTable(report) == output)
        if odd {
            // The untyped chunk type "" occurs in gold and predictions, so conlleval lists it twice.
            #expect(output?.components(separatedBy: "                 : precision").count == 3)
        }
        if !odd {
            #expect(report.isChunked)
            #expect(report.accuracy == report.conllevalAccuracy)
        }
    }

    @Test(.enabled(if: TestSupport.conllevalOrCI("data/conll2003/valid.txt"),
                   "conlleval.pl, perl or CoNLL-2003 data not present (CI=true makes this a failure)"))
    func realValidationSplitMatchesConllevalScript() throws {
        let script = try TestSupport.requireConlleval()
        let path = try TestSupport.requireShared("data/conll2003/valid.txt")
        let gold = try CoNLLReader.read(path: path).sentences.map(\.labels)
        var rng = SplitMix64(seed: 2003)
        let predicted = gold.map { labels in
            labels.map { rng.nextUnit() < 0.1 ? Self.bioAlphabet[rng.nextIndex(below: Self.bioAlphabet.count)] : $0 }
        }
        let output = try runConlleval(gold: gold, predicted: predicted, script: script)
        #expect(output != nil)
        let report = Evaluator.evaluate(gold: gold, predicted: predicted)
        #expect(Evaluator.conllevalTable(report) == output)
        let perfect = Evaluator.evaluate(gold: gold, predicted: gold)
        #expect(perfect.f1 == 100 && perfect.ncrfF1 == 100 && perfect.accuracy == 100)
        #expect(perfect.goldChunks == 5_942)   // the published count of entities in CoNLL-2003 dev
    }

    @Test func conllevalChunksAgreeWithTheCounter() {
        // For BIO labels the chunk sets give the same counts as the state machine.
        let (gold, predicted) = Self.randomLabels(seed: 9, sentences: 200, alphabet: Self.bioAlphabet)
        let report = Evaluator.evaluate(gold: gold, predicted: predicted)
        var goldCount = 0, guessCount = 0, correct = 0
        for (goldLabels, guessLabels) in zip(gold, predicted) {
            let goldChunks = Set(Chunker.chunks(goldLabels, scheme: .conlleval))
            let guessChunks = Set(Chunker.chunks(guessLabels, scheme: .conlleval))
            goldCount += goldChunks.count
            guessCount += guessChunks.count
            correct += goldChunks.intersection(guessChunks).count
        }
        #expect(report.goldChunks == goldCount)
        #expect(report.predictedChunks == guessCount)
        #expect(report.correctChunks == correct)
    }

    @Test func posTagsAndEmptyInputDoNotDivideByZero() {
        let report = Evaluator.evaluate(gold: [["NN", "VBZ", "DT"], ["NN"]], predicted: [["NN", "VBD", "DT"], ["JJ"]])
        #expect(!report.isChunked)
        #expect(report.tokens == 4)
        #expect(abs(report.accuracy - 50) < 1e-12)
        #expect(report.goldChunks == 0 && report.predictedChunks == 0)
        #expect(report.precision == 0 && report.recall == 0 && report.f1 == 0)
        #expect(report.ncrfPrecision == -1 && report.ncrfRecall == -1 && report.ncrfF1 == -1)
        #expect(report.labelAccuracy == [
            LabelAccuracy(label: "DT", correct: 1, total: 1, accuracy: 100),
            LabelAccuracy(label: "NN", correct: 1, total: 2, accuracy: 50),
            LabelAccuracy(label: "VBZ", correct: 0, total: 1, accuracy: 0),
        ])
        #expect(Evaluator.conllevalTable(report) == """
        processed 4 tokens with 0 phrases; found: 0 phrases; correct: 0.
        accuracy:  50.00%; precision:   0.00%; recall:   0.00%; FB1:   0.00

        """)

        let empty = Evaluator.evaluate(gold: [], predicted: [])
        #expect(empty.tokens == 0 && empty.accuracy == 0 && empty.f1 == 0 && !empty.isChunked)
        #expect(Evaluator.conllevalTable(empty) == "processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n")
        let blank = Evaluator.evaluate(gold: [[]], predicted: [[]])
        #expect(blank.sentences == 1 && blank.tokens == 0)
    }

    @Test func nothingPredictedAndShortPredictions() {
        // NCRF++ precision is −1 when nothing is predicted; conlleval gives 0.
        let report = Evaluator.evaluate(gold: [["B-PER", "I-PER", "O"]], predicted: [["O", "O", "O"]])
        #expect(report.precision == 0 && report.recall == 0 && report.f1 == 0)
        #expect(report.ncrfPrecision == -1 && report.ncrfRecall == 0 && report.ncrfF1 == -1)
        // Missing predictions count as O; extra ones are ignored.
        let padded = Evaluator.evaluate(gold: [["B-PER", "O"], ["B-LOC"]], predicted: [["B-PER"]])
        #expect(padded.tokens == 3 && padded.correctChunks == 1 && padded.predictedChunks == 1)
        let extra = Evaluator.evaluate(gold: [["B-PER"]], predicted: [["B-PER", "B-LOC"], ["O"]])
        #expect(extra.tokens == 1 && extra.f1 == 100 && extra.ncrfF1 == 100)
    }

    @Test func reportIsCodable() throws {
        let report = Evaluator.evaluate(gold: HandMade.gold, predicted: HandMade.predicted)
        let data = try JSONEncoder().encode(report)
        let decoded = try JSONDecoder().decode(EvaluationReport.self, from: data)
        #expect(decoded.types == report.types)
        #expect(decoded.f1 == report.f1)
    }
}
