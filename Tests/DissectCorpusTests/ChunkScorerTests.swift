import Testing
import DissectCore
@testable import DissectCorpus

@Suite struct ChunkScorerTests {
    /// The integer scorer gives conlleval's counts (as `Evaluator`) on random
    /// label sequences full of stray I-X, E-X and S-X tags.
    @Test func matchesEvaluatorOnRandomSequences() {
        let labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-MISC", "B-MISC", "E-ORG", "S-ORG", "I-ORG"]
        var rng = SplitMix64(seed: 17)
        for trial in 0..<50 {
            let sentenceCount = 1 + rng.nextIndex(below: 12)
            var gold: [[String]] = [], predicted: [[String]] = [], codes: [Int32] = []
            for _ in 0..<sentenceCount {
                let length = 1 + rng.nextIndex(below: 15)
                gold.append((0..<length).map { _ in labels[rng.nextIndex(below: labels.count)] })
                let guess = (0..<length).map { _ in Int32(rng.nextIndex(below: labels.count)) }
                codes += guess
                predicted.append(guess.map { labels[Int($0)] })
            }
            let report = Evaluator.evaluate(gold: gold, predicted: predicted)
            let scorer = ChunkScorer(labels: labels, gold: gold)
            let counts = codes.withUnsafeBufferPointer { scorer.count(predicted: $0.baseAddress!) }
            #expect(counts.correct == report.correctChunks, "trial \(trial)")
            #expect(counts.found == report.predictedChunks, "trial \(trial)")
            #expect(counts.gold == report.goldChunks, "trial \(trial)")
            #expect(abs(ChunkScorer.f1(correct: counts.correct, found: counts.found, gold: counts.gold) - report.f1) < 1e-9)
        }
    }

    @Test func goldLabelsTheModelDoesNotKnowStillCount() {
        let scorer = ChunkScorer(labels: ["O", "B-PER"], gold: [["B-PER", "B-XYZ", "I-XYZ"]])
        let predicted: [Int32] = [1, 0, 0]
        let counts = predicted.withUnsafeBufferPointer { scorer.count(predicted: $0.baseAddress!) }
        #expect(counts.correct == 1 && counts.found == 1 && counts.gold == 2)
    }
}
