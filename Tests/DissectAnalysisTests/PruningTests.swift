import Testing
import DissectCore
import DissectModel
@testable import DissectAnalysis

/// Pruning (checkpoint surgery, DissectModel) against recurrent-mode zero-ablation (the masked
/// recurrence, DissectAnalysis): two implementations of "unit i is gone" that must agree.
@Suite struct PruningTests {
    static func removedUnits(_ variant: String, hiddenSize H: Int) -> [Int] {
        variant == "bilstm" ? [1, H] : [0, 2]
    }

    @Test(arguments: ["lstm", "gru", "bilstm"])
    func prunedModelEqualsRecurrentZeroAblation(variant: String) throws {
        let fixture = try AnalysisFixture.load(variant)
        let checkpoint = try fixture.checkpoint()
        let run = try fixture.run(keepProjections: true)
        let c = checkpoint.model.configuration, O = c.outputSize
        let removed = Self.removedUnits(variant, hiddenSize: c.hiddenSize)
        let pruned = try Pruning.prune(checkpoint, removed: removed, model: "fixture")
        let p = pruned.model.configuration
        #expect(p.hiddenSize == c.hiddenSize - removed.count / c.directionCount)
        // Really smaller: per direction, k·G rows of weight_ih (width D) and of weight_hh (width H'), k columns of
        // weight_hh (G rows), 2·k·G bias values; and k columns of hidden2tag.weight.
        let k = removed.count / c.directionCount, G = c.gateSize, gates = c.cell.gateCount, newH = p.hiddenSize
        let perDirection = k * gates * c.layerInputSize(0) + k * gates * newH + k * G + 2 * k * gates
        #expect(checkpoint.model.layout.totalCount - pruned.model.layout.totalCount == c.directionCount * perDirection + k * c.directionCount * c.labelCount)

        let encoded = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let prunedRun = ModelRun(checkpoint: pruned, encoded: encoded, goldLabels: run.goldLabels, dataPath: "fixture")
        let projected = try #require(run.projected)
        let recurrence = MaskedRecurrence(
            configuration: c, parameters: checkpoint.model.parameters, layer: 0, projected: projected, sentenceStarts: run.sentenceStarts)
        var keep = [Float](repeating: 1, count: O)
        for unit in removed { keep[unit] = 0 }
        var ablated = [Float](repeating: 0, count: run.tokenCount * O)
        ablated.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, into: $0.baseAddress!) }
        let keptUnits = (0..<O).filter { !removed.contains($0) }
        var largest: Float = 0, changed: Float = 0
        for token in 0..<run.tokenCount {
            for (index, unit) in keptUnits.enumerated() {
                largest = max(largest, abs(prunedRun.hidden[token * keptUnits.count + index] - ablated[token * O + unit]))
                changed = max(changed, abs(run.hidden[token * O + unit] - ablated[token * O + unit]))
            }
        }
        #expect(largest <= 1e-5, "pruned and ablated hidden states differ by \(largest)")
        #expect(changed > 1e-4, "the ablation changes the kept units' states (else the comparison shows nothing)")
        let engine = AblationEngine(run: run, focusLabels: [run.labels[0]], steps: removed.count)
        let predictions = engine.predictions(order: removed, mode: .recurrent)
        #expect(predictions.last == prunedRun.predicted)
    }

    @Test func unitsThatCannotBeRemoved() {
        func problem(_ removed: [Int], directions: Int = 1) -> String? {
            do {
                _ = try Pruning.keptUnits(removed: removed, hiddenSize: 4, directions: directions, model: "m")
                return nil
            } catch let error as DissectError {
                #expect(error.kind == .usage && error.file == "m")
                return error.problem
            } catch { return "\(error)" }
        }
        #expect(problem([4])?.contains("unit 4 is not in the layer") == true)
        #expect(problem([1, 1])?.contains("named twice") == true)
        #expect(problem([0, 1, 2, 3])?.contains("leaves none") == true)
        #expect(problem([0, 1, 4], directions: 2)?.contains("2 forward and 1 backward") == true)
        #expect(problem([0, 5], directions: 2) == nil)
        #expect((try? Pruning.keptUnits(removed: [0, 5], hiddenSize: 4, directions: 2, model: "m")) == [[1, 2, 3], [0, 2, 3]])
    }

    @Test func stackedModelsAreAUsageError() throws {
        var c = TaggerConfiguration()
        c.layers = 2
        c.charCNN = false
        c.hiddenSize = 3
        c.wordEmbeddingDim = 2
        c.wordCount = 2
        c.charCount = 2
        c.labelCount = 2
        let checkpoint = Checkpoint(
            metadata: CheckpointMetadata(
                configuration: c, vocabulary: VocabularyLists(words: ["<unk>", "a"], chars: ["<unk>", "a"], labels: ["A", "B"]),
                unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil),
            model: TaggerModel<Float>(configuration: c))
        #expect(throws: DissectError.self) { try Pruning.prune(checkpoint, removed: [0], model: "m") }
    }

    /// Which units each order keeps: scores [5, 1, 3, 3] forward and [0, 9, 2, 4] backward, keep 2 per direction.
    @Test func removalOrders() {
        let scores: [Double] = [5, 1, 3, 3, 0, 9, 2, 4]
        // Sensitivity keeps 0 and 2 (the tie 2/3 goes to the lower unit) forward, 5 and 7 backward.
        #expect(Pruning.removal(order: .sensitivity, keep: 2, scores: scores, hiddenSize: 4, directions: 2, seed: 1) == [1, 3, 4, 6])
        // Reverse keeps the lowest: 1 and 2 forward, 4 and 6 backward.
        #expect(Pruning.removal(order: .reverse, keep: 2, scores: scores, hiddenSize: 4, directions: 2, seed: 1) == [0, 3, 5, 7])
        let random = Pruning.removal(order: .random, keep: 2, scores: scores, hiddenSize: 4, directions: 2, seed: 7)
        #expect(random == Pruning.removal(order: .random, keep: 2, scores: scores, hiddenSize: 4, directions: 2, seed: 7))
        #expect(random.filter { $0 < 4 }.count == 2 && random.filter { $0 >= 4 }.count == 2)
        let seeds = (1...20).map { Pruning.removal(order: .random, keep: 2, scores: Array(scores.prefix(4)), hiddenSize: 4, directions: 1, seed: $0) }
        #expect(Set(seeds).count > 1, "the seed changes the draw")
    }
}
