import Foundation
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
        let c = checkpoint.model.configuration
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
        try Self.expectIdentity(checkpoint, removed: removed, layer: 0, encoded: encoded, gold: run.goldLabels)
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

    /// A 2-layer model of the fixture's shapes with random weights (±0.6, wider than PyTorch's default so that
    /// removing a unit moves the states above it clearly).
    static func stacked(_ variant: String) throws -> (Checkpoint, [EncodedSentence], [[String]]) {
        let fixture = try AnalysisFixture.load(variant)
        let base = try fixture.checkpoint()
        var c = base.model.configuration
        c.layers = 2
        var model = TaggerModel<Float>(configuration: c)
        var rng = SplitMix64(seed: 21)
        for index in model.parameters.indices { model.parameters[index] = Float(rng.nextUnit() * 1.2 - 0.6) }
        var metadata = base.metadata
        metadata.configuration = c
        metadata.formatVersion = 2
        let encoded = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let names = fixture.labelNames
        return (Checkpoint(metadata: metadata, model: model), encoded, fixture.sentences.map { $0.labels.map { names[Int($0)] } })
    }

    /// Prunes `removed` of layer `layer` and checks the pruned model against recurrent zero-ablation of the same units:
    /// the top layer's states within 1e-5 (the kept units when the top is pruned) and the same predictions.
    /// Returns the pruned checkpoint.
    @discardableResult
    static func expectIdentity(
        _ checkpoint: Checkpoint, removed: [Int], layer: Int, encoded: [EncodedSentence], gold: [[String]]
    ) throws -> Checkpoint {
        let c = checkpoint.model.configuration, top = c.layers - 1
        let run = ModelRun(checkpoint: checkpoint, encoded: encoded, goldLabels: gold, dataPath: "m", layer: layer, keepProjections: true)
        let pruned = try Pruning.prune(checkpoint, removed: removed, layer: layer, model: "m")
        let p = pruned.model.configuration
        #expect(p.hiddenSize(layer: layer) == c.hiddenSize(layer: layer) - removed.count / c.directionCount)
        for other in 0..<c.layers where other != layer { #expect(p.hiddenSize(layer: other) == c.hiddenSize(layer: other)) }
        #expect(pruned.model.layout.totalCount < checkpoint.model.layout.totalCount)
        let prunedRun = ModelRun(checkpoint: pruned, encoded: encoded, goldLabels: gold, dataPath: "m")
        let O = c.outputSize, width = c.outputSize(layer: layer)
        var keep = [Float](repeating: 1, count: width)
        for unit in removed { keep[unit] = 0 }
        let recurrence = MaskedRecurrence(
            configuration: c, parameters: checkpoint.model.parameters, layer: layer, projected: try #require(run.projected),
            sentenceStarts: run.sentenceStarts)
        var ablated = [Float](repeating: 0, count: run.tokenCount * O)
        ablated.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, into: $0.baseAddress!) }
        let full = ModelRun(checkpoint: checkpoint, encoded: encoded, goldLabels: gold, dataPath: "m")
        // The top layer's units that survive: all of them when a lower layer was pruned.
        let keptUnits = layer == top ? (0..<O).filter { !removed.contains($0) } : Array(0..<O)
        #expect(prunedRun.neuronCount == keptUnits.count)
        var largest: Float = 0, changed: Float = 0
        for token in 0..<run.tokenCount {
            for (index, unit) in keptUnits.enumerated() {
                largest = max(largest, abs(prunedRun.hidden[token * keptUnits.count + index] - ablated[token * O + unit]))
                changed = max(changed, abs(full.hidden[token * O + unit] - ablated[token * O + unit]))
            }
        }
        #expect(largest <= 1e-5, "layer \(layer + 1): pruned and ablated top states differ by \(largest)")
        #expect(changed > 1e-4, "layer \(layer + 1): the ablation moves the top states (else the comparison shows nothing)")
        let engine = AblationEngine(run: run, focusLabels: [run.labels[0]], steps: removed.count)
        #expect(engine.predictions(order: removed, mode: .recurrent).last == prunedRun.predicted)
        return pruned
    }

    /// Stacked models, uni and bi, LSTM and GRU: pruning either layer is zero-ablation of it, and a model whose layers
    /// now differ in width can be pruned again, saved and read back.
    @Test(arguments: ["lstm", "gru", "bilstm"])
    func stackedPruningEqualsRecurrentZeroAblation(variant: String) throws {
        let (checkpoint, encoded, gold) = try Self.stacked(variant)
        let c = checkpoint.model.configuration, H = c.hiddenSize
        let removed = Self.removedUnits(variant, hiddenSize: H)
        try Self.expectIdentity(checkpoint, removed: removed, layer: 1, encoded: encoded, gold: gold)
        let lower = try Self.expectIdentity(checkpoint, removed: removed, layer: 0, encoded: encoded, gold: gold)
        let p = lower.model.configuration
        #expect(p.layerHiddenSizes == [H - removed.count / c.directionCount, H])
        #expect(p.layerInputSize(1) == p.outputSize(layer: 0))
        // The next layer's weight_ih lost the matching columns: [G, O] → [G, O − k·directions].
        let names = ParameterLayout.recurrentNames(cell: c.cell, layer: 1, direction: 0)
        #expect(lower.model.layout.entry(names.inputWeight)?.shape == [c.gateSize, c.outputSize - removed.count])
        // Pruning the other layer of the pruned model, then a round trip through model.json and model.safetensors.
        let again = try Self.expectIdentity(lower, removed: [0] + (c.bidirectional ? [p.hiddenSize] : []), layer: 1, encoded: encoded, gold: gold)
        let sandbox = NSTemporaryDirectory() + "dissect-prune-stacked-\(variant)-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        try again.save(to: sandbox)
        let read = try Checkpoint.load(from: sandbox)
        #expect(read.model.configuration == again.model.configuration)
        #expect(read.model.configuration.hiddenSizes == again.model.configuration.hiddenSizes)
        #expect(read.model.parameters == again.model.parameters)
        // Uniform widths again are written as train writes them, with no layer_hidden_sizes.
        let even = try Pruning.prune(lower, removed: removed, layer: 1, model: "m").model.configuration
        #expect(even.layerHiddenSizes == nil && even.hiddenSizes == [p.hiddenSize(layer: 0), p.hiddenSize(layer: 0)])
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
