import Foundation
import Testing
import DissectCore
import DissectKernels
@testable import DissectModel

/// `MaskedRecurrence` with each ablated unit set to v_i(t) after every step,
/// against a naive reference written here: one sentence and one token at a
/// time, matrix-vector products as loops, the cells' reference pointwise
/// functions, v_i(t) substituted in the masked layer's output and carried
/// state, and every layer above run normally.
@Suite struct MaskedRecurrenceReplacementTests {
    /// The top layer's states `[N, O]` with the units in `ablated` (0..<O, [forward; backward]) of
    /// layer `layer` set to `value(unit, token)` after every step.
    static func reference(
        configuration c: TaggerConfiguration, parameters p: [Float], layer: Int, projected: [[Float]], starts: [Int],
        ablated: Set<Int>, value: (Int, Int) -> Float
    ) -> [Float] {
        let offsets = ParameterOffsets(layout: ParameterLayout(configuration: c), configuration: c)
        let H = c.hiddenSize, G = c.gateSize, O = c.outputSize, N = starts[starts.count - 1]
        var below: [Float] = []
        for current in layer..<c.layers {
            var output = [Float](repeating: 0, count: N * O)
            for direction in 0..<c.directionCount {
                let weights = offsets.recurrent[current][direction]
                // The layer's input projection: cached for the masked layer, else from the layer below.
                var projection = [Float](repeating: 0, count: N * G)
                if current == layer {
                    projection = projected[direction]
                } else {
                    for token in 0..<N {
                        for gate in 0..<G {
                            var sum = p[weights.inputBias + gate] + (c.cell.foldsHiddenBias ? p[weights.hiddenBias + gate] : 0)
                            for column in 0..<O { sum += p[weights.inputWeight + gate * O + column] * below[token * O + column] }
                            projection[token * G + gate] = sum
                        }
                    }
                }
                for sentence in 0..<(starts.count - 1) {
                    let length = starts[sentence + 1] - starts[sentence]
                    var h = [Float](repeating: 0, count: H), cell = [Float](repeating: 0, count: H)
                    for step in 0..<length {
                        let token = starts[sentence] + (direction == 1 ? length - 1 - step : step)
                        var recurrent = [Float](repeating: 0, count: G)
                        for gate in 0..<G {
                            for unit in 0..<H { recurrent[gate] += p[weights.hiddenWeight + gate * H + unit] * h[unit] }
                        }
                        var gates = (0..<G).map { projection[token * G + $0] }
                        var next = [Float](repeating: 0, count: H), tanhCell = [Float](repeating: 0, count: H)
                        var candidate = [Float](repeating: 0, count: H)
                        switch c.cell {
                        case .lstm:
                            for gate in 0..<G { gates[gate] += recurrent[gate] }
                            let previous = cell
                            LSTMCell.referenceForwardPointwise(
                                hiddenSize: H, gates: &gates, cellPrevious: previous, cell: &cell, tanhCell: &tanhCell, hidden: &next)
                        case .gru:
                            for gate in 0..<G { recurrent[gate] += p[weights.hiddenBias + gate] }
                            var activations = [Float](repeating: 0, count: G)
                            GRUCell.referenceForwardPointwise(
                                hiddenSize: H, input: gates, recurrent: recurrent, hiddenPrevious: h, gates: &activations,
                                candidate: &candidate, hidden: &next)
                        case .rnn:
                            for gate in 0..<G { gates[gate] += recurrent[gate] }
                            RNNCell.referenceForwardPointwise(hiddenSize: H, gates: &gates, hidden: &next)
                        }
                        if current == layer {
                            for unit in 0..<H where ablated.contains(direction * H + unit) { next[unit] = value(direction * H + unit, token) }
                        }
                        h = next
                        for unit in 0..<H { output[token * O + direction * H + unit] = h[unit] }
                    }
                }
            }
            below = output
        }
        return below
    }

    /// `model` run forward over `sentences`, and the masked recurrence of `layer` built from the projections it cached,
    /// with the sentences' token offsets and those projections.
    static func maskedRecurrence(
        _ c: TaggerConfiguration, _ model: TaggerModel<Float>, sentences: [EncodedSentence], layer: Int
    ) -> (recurrence: MaskedRecurrence, starts: [Int], projected: [[Float]]) {
        var starts = [0]
        for sentence in sentences { starts.append(starts[starts.count - 1] + sentence.count) }
        let N = starts[starts.count - 1]
        let shard = TaggerShard<Float>(configuration: c)
        model.parameters.withUnsafeBufferPointer { p in
            _ = shard.forward(parameters: p.baseAddress!, sentences: sentences, range: 0..<sentences.count, dropoutRNG: nil, withLoss: false)
        }
        let projected = (0..<c.directionCount).map { direction in
            Array(UnsafeBufferPointer(start: shard.projectedInput(layer: layer, direction: direction), count: N * c.gateSize))
        }
        let recurrence = MaskedRecurrence(configuration: c, parameters: model.parameters, layer: layer, projected: projected, sentenceStarts: starts)
        return (recurrence, starts, projected)
    }

    static let cases: [(String, Int)] = [
        ("lstm", 0), ("bilstm", 0), ("gru", 0), ("bigru", 0), ("rnn", 0), ("birnn", 0),
        ("bilstm2", 0), ("bilstm2", 1), ("gru2", 0), ("bigru2", 1), ("birnn2", 0), ("lstm2", 1),
    ]

    @Test(arguments: cases)
    func replacementMatchesTheNaiveReference(variant: String, layer: Int) throws {
        let fixture = try ParityTests.load(variant)
        let c = try ParityTests.configuration(fixture)
        let model: TaggerModel<Float> = try ParityTests.model(fixture, c)
        let sentences = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let (recurrence, starts, projected) = Self.maskedRecurrence(c, model, sentences: sentences, layer: layer)
        let N = starts[starts.count - 1], O = c.outputSize, H = c.hiddenSize
        // The first forward unit and, in a bidirectional model, the last backward one.
        let ablated: Set<Int> = c.bidirectional ? [0, O - 1] : [0, H - 1]
        var keep = [Float](repeating: 1, count: O)
        for unit in ablated { keep[unit] = 0 }
        var rng = SplitMix64(seed: 41)
        let constants = (0..<O).map { _ in Float(rng.uniform(-0.9, 0.9)) }
        let perToken = (0..<(O * N)).map { _ in Float(rng.uniform(-0.9, 0.9)) }
        let replacements: [(String, MaskedRecurrence.Replacement, (Int, Int) -> Float)] = [
            ("zero", .zero, { _, _ in 0 }),
            ("constant", .constant(constants), { unit, _ in constants[unit] }),
            ("per token", .perToken(perToken), { unit, token in perToken[unit * N + token] }),
        ]
        var outputs: [[Float]] = []
        for (name, replacement, value) in replacements {
            var hidden = [Float](repeating: .nan, count: N * O)
            hidden.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, replacement: replacement, into: $0.baseAddress!) }
            let expected = Self.reference(
                configuration: c, parameters: model.parameters, layer: layer, projected: projected, starts: starts,
                ablated: ablated, value: value)
            for index in hidden.indices {
                #expect(abs(hidden[index] - expected[index]) < 1e-5, "\(variant) layer \(layer + 1) \(name) hidden[\(index)]")
            }
            if layer == c.layers - 1 {
                // On the top layer the ablated units show their values exactly.
                for token in 0..<N { for unit in ablated { #expect(hidden[token * O + unit] == value(unit, token)) } }
            }
            outputs.append(hidden)
        }
        #expect(outputs[1] != outputs[0] && outputs[2] != outputs[1], "each replacement gives other states")
    }

    /// `runMasks` (every mask at once, group by group) against `run` per mask, bit for bit, with the fixture's
    /// sentences repeated until there are several groups on both shards, under every replacement.
    @Test(arguments: cases.filter { variant, layer in variant.hasSuffix("2") ? layer == 1 : true })
    func runMasksGivesTheBitsOfRunPerMask(variant: String, layer: Int) throws {
        let fixture = try ParityTests.load(variant)
        let c = try ParityTests.configuration(fixture)
        let model: TaggerModel<Float> = try ParityTests.model(fixture, c)
        let once = fixture.sentences.map { EncodedSentence(words: $0.words, characters: $0.chars, labels: $0.labels) }
        let sentences = Array((0..<(8 * MaskedRecurrence.groupSize / max(1, once.count) + 1)).map { _ in once }.joined())
        let (recurrence, starts, _) = Self.maskedRecurrence(c, model, sentences: sentences, layer: layer)
        let N = starts[starts.count - 1], O = c.outputSize
        #expect(recurrence.masksTopLayer)
        #expect(recurrence.groupShards.allSatisfy { $0.count >= 1 }, "both shards have groups: \(recurrence.groupShards)")
        // No unit, one, every other one, the last, the first half, every unit.
        let masks: [[Float]] = [
            [Float](repeating: 1, count: O),
            (0..<O).map { $0 == 0 ? 0 : 1 },
            (0..<O).map { $0 % 2 == 0 ? 0 : 1 },
            (0..<O).map { $0 == O - 1 ? 0 : 1 },
            (0..<O).map { $0 < O / 2 ? 0 : 1 },
            [Float](repeating: 0, count: O),
        ]
        if c.cell == .lstm {
            // Under `.zero` every mask but the first runs compacted in some direction (`runCompactGroup`).
            let compacts = recurrence.compactMasks(masks)
            #expect(compacts[0].allSatisfy { $0 == nil })
            #expect(compacts.dropFirst().allSatisfy { $0.contains { $0 != nil } }, "\(variant): the masks run compacted")
        }
        var rng = SplitMix64(seed: 43)
        let constants = (0..<O).map { _ in Float(rng.uniform(-0.9, 0.9)) }
        let perToken = (0..<(O * N)).map { _ in Float(rng.uniform(-0.9, 0.9)) }
        let replacements: [(String, MaskedRecurrence.Replacement)] = [("zero", .zero), ("constant", .constant(constants)), ("per token", .perToken(perToken))]
        for (name, replacement) in replacements {
            for parallel in [true, false] {
                var gathered = [[Float]](repeating: [Float](repeating: .nan, count: N * O), count: masks.count)
                var visits = [Int](repeating: 0, count: masks.count * sentences.count)
                let lock = NSLock()
                recurrence.runMasks(masks, replacement: replacement, parallel: parallel) { mask, _, states in
                    lock.withLock {
                        for (index, sentence) in states.sentences.enumerated() {
                            visits[mask * sentences.count + sentence] += 1
                            let length = states.starts[index + 1] - states.starts[index]
                            #expect(length == starts[sentence + 1] - starts[sentence])
                            for offset in 0..<(length * O) {
                                gathered[mask][starts[sentence] * O + offset] = states.hidden[states.starts[index] * O + offset]
                            }
                        }
                    }
                }
                #expect(visits.allSatisfy { $0 == 1 }, "every sentence once under every mask")
                for (maskIndex, keep) in masks.enumerated() {
                    var expected = [Float](repeating: .nan, count: N * O)
                    expected.withUnsafeMutableBufferPointer { recurrence.run(keep: keep, replacement: replacement, into: $0.baseAddress!) }
                    let same = zip(gathered[maskIndex], expected).allSatisfy { $0.bitPattern == $1.bitPattern }
                    #expect(same, "\(variant) layer \(layer + 1) \(name) mask \(maskIndex) parallel \(parallel)")
                }
            }
        }
    }
}

/// The runs a compacted mask copies its gate columns and live units in.
@Suite struct CompactMaskRunTests {
    @Test func runsAreTheBlocksOfConsecutiveIndices() {
        let runs = MaskedRecurrence.CompactMask.runs([0, 1, 2, 5, 6, 9])
        #expect(runs.map { [$0.source, $0.destination, $0.count] } == [[0, 0, 3], [5, 3, 2], [9, 5, 1]])
        #expect(MaskedRecurrence.CompactMask.runs([]).isEmpty)
    }
}
