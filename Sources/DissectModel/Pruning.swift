import DissectCore

/// What `dissect prune` removed, recorded in the pruned model's `model.json`.
public struct PruningRecord: Codable, Sendable, Equatable {
    /// The model pruned (its directory as given).
    public var source: String
    /// 1-based layer.
    public var layer: Int
    /// Units removed and kept, numbered [forward; backward] within the layer of the source model.
    public var removed: [Int]
    public var kept: [Int]
    /// How the units were chosen: "list", "sensitivity", "reverse" or "random".
    public var rule: String
    /// Fine-tuning epochs run after the surgery (0: none).
    public var fineTuneEpochs: Int

    public init(source: String, layer: Int, removed: [Int], kept: [Int], rule: String, fineTuneEpochs: Int = 0) {
        self.source = source
        self.layer = layer
        self.removed = removed
        self.kept = kept
        self.rule = rule
        self.fineTuneEpochs = fineTuneEpochs
    }

    enum CodingKeys: String, CodingKey {
        case source, layer, removed, kept, rule
        case fineTuneEpochs = "fine_tune_epochs"
    }
}

/// Pruning as checkpoint surgery: a model without some hidden units, really smaller.
///
/// Removing unit i (0 ≤ i < H) of one direction of layer ℓ deletes, in that direction's tensors:
/// rows g·H + i of `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` for every gate block g
/// (`[G, D] → [G − gk, D]`, gates i, f, g, o for an LSTM), and column i of `weight_hh`
/// (`[G, H] → [G', H − k]`); and column d·H + i of what reads the layer: `hidden2tag.weight`
/// (`[m, O] → [m, O − k·directions]`) for the top layer, the next layer's `weight_ih` (both directions,
/// `[G, O] → [G, O − k·directions]`) below it. Every other tensor is copied.
/// The pruned model computes exactly what recurrent-mode zero-ablation of the same units computes
/// (an ablated unit's h is 0 after every step, so nothing reads it; its cell state feeds only its own h).
public enum Pruning {
    /// The units kept in each direction (0-based within the direction), given units `removed`
    /// numbered [forward; backward] within the layer.
    /// - Throws: `DissectError` (.usage, naming `model`) for a unit outside the layer, a unit named twice,
    ///   directions left with different widths, or a direction left with no unit.
    public static func keptUnits(removed: [Int], hiddenSize H: Int, directions: Int, model: String) throws -> [[Int]] {
        let width = H * directions
        if let outside = removed.first(where: { !(0..<width).contains($0) }) {
            throw DissectError(
                .usage, file: model, problem: "unit \(outside) is not in the layer, whose units are 0 to \(width - 1)",
                fix: "name units from 0 to \(width - 1)" + (directions == 2 ? " (forward 0 to \(H - 1), backward \(H) to \(width - 1))" : ""))
        }
        if Set(removed).count != removed.count {
            throw DissectError(.usage, file: model, problem: "a unit is named twice in the units to remove", fix: "name each unit once")
        }
        let perDirection = (0..<directions).map { direction in Set(removed.filter { $0 / H == direction }.map { $0 % H }) }
        if directions == 2 && perDirection[0].count != perDirection[1].count {
            throw DissectError(
                .usage, file: model,
                problem: "the units remove \(perDirection[0].count) forward and \(perDirection[1].count) backward units, so the directions would differ in width",
                fix: "remove the same number of units from each direction")
        }
        if perDirection[0].count >= H {
            throw DissectError(
                .usage, file: model, problem: "removing \(perDirection[0].count) of \(H) units per direction leaves none",
                fix: "keep at least one unit per direction")
        }
        return perDirection.map { removedUnits in (0..<H).filter { !removedUnits.contains($0) } }
    }

    /// `checkpoint` without `removed` units (numbered [forward; backward]) of layer `layer` (0-based; nil: the top).
    /// Below the top, the next layer's `weight_ih` loses the matching columns and `model.json` records each
    /// layer's width (`TaggerConfiguration.layerHiddenSizes`).
    /// - Throws: `DissectError` (.usage, naming `model`) for the cases of `keptUnits`.
    public static func prune(_ checkpoint: Checkpoint, removed: [Int], layer: Int? = nil, model: String) throws -> Checkpoint {
        let c = checkpoint.model.configuration
        let target = layer ?? c.layers - 1
        precondition((0..<c.layers).contains(target), "layer \(target) outside the model's \(c.layers)")
        let H = c.hiddenSize(layer: target), gates = c.cell.gateCount
        let kept = try keptUnits(removed: removed, hiddenSize: H, directions: c.directionCount, model: model)
        let newH = kept[0].count
        var pruned = c
        var sizes = c.hiddenSizes
        sizes[target] = newH
        pruned.hiddenSize = sizes[sizes.count - 1]
        // Kept only when the layers differ, so a single-layer (or top-and-all) pruning holds what train holds.
        pruned.layerHiddenSizes = sizes
        pruned.layerHiddenSizes = pruned.distinctLayerSizes
        var result = TaggerModel<Float>(configuration: pruned)
        let source = checkpoint.model
        // Rows of a gate-blocked tensor kept: g·H + i for each gate g and kept i, in order.
        let keptRows = kept.map { units in (0..<gates).flatMap { gate in units.map { gate * H + $0 } } }
        // Columns of what reads the layer's output [forward; backward].
        let keptColumns = (0..<c.directionCount).flatMap { direction in kept[direction].map { direction * H + $0 } }
        for entry in result.layout.entries {
            guard let old = source.layout.entry(entry.name) else { preconditionFailure("no tensor \(entry.name) in the source layout") }
            var copied: [Float] = []
            copied.reserveCapacity(entry.count)
            let values = source.parameters[old.offset..<(old.offset + old.count)]
            func value(_ index: Int) -> Float { values[values.startIndex + index] }
            if let (direction, part) = recurrentPart(entry.name, cell: c.cell, layer: target, directions: c.directionCount) {
                let rows = keptRows[direction]
                switch part {
                case .inputWeight:
                    let width = c.layerInputSize(target)
                    for row in rows { for column in 0..<width { copied.append(value(row * width + column)) } }
                case .hiddenWeight:
                    for row in rows { for column in kept[direction] { copied.append(value(row * H + column)) } }
                case .bias:
                    for row in rows { copied.append(value(row)) }
                }
            } else if target + 1 < c.layers,
                      let (_, part) = recurrentPart(entry.name, cell: c.cell, layer: target + 1, directions: c.directionCount),
                      part == .inputWeight {
                // The layer above reads the pruned layer's output: its input weights lose those columns.
                let width = c.layerInputSize(target + 1)
                for row in 0..<c.gateSize(layer: target + 1) { for column in keptColumns { copied.append(value(row * width + column)) } }
            } else if entry.name == "hidden2tag.weight" && target == c.layers - 1 {
                let width = c.outputSize
                for label in 0..<c.labelCount { for column in keptColumns { copied.append(value(label * width + column)) } }
            } else {
                copied = Array(values)
            }
            precondition(copied.count == entry.count, "\(entry.name): \(copied.count) values for \(entry.count)")
            for (index, number) in copied.enumerated() { result.parameters[entry.offset + index] = number }
        }
        precondition(newH * c.directionCount == pruned.outputSize(layer: target))
        var metadata = checkpoint.metadata
        metadata.configuration = pruned
        // The scores measured in training describe the unpruned model.
        if var training = metadata.training {
            training.devF1 = nil; training.devF1NCRF = nil; training.devAccuracy = nil
            training.testF1 = nil; training.testF1NCRF = nil; training.testAccuracy = nil
            metadata.training = training
        }
        metadata.pruning = PruningRecord(source: model, layer: target + 1, removed: removed.sorted(), kept: keptColumns, rule: "list")
        return Checkpoint(metadata: metadata, model: result)
    }

    enum RecurrentPart { case inputWeight, hiddenWeight, bias }

    /// Which direction and kind of tensor `name` is among layer `layer`'s recurrent tensors, nil for any other.
    static func recurrentPart(_ name: String, cell: CellKind, layer: Int, directions: Int) -> (Int, RecurrentPart)? {
        for direction in 0..<directions {
            let names = ParameterLayout.recurrentNames(cell: cell, layer: layer, direction: direction)
            switch name {
            case names.inputWeight: return (direction, .inputWeight)
            case names.hiddenWeight: return (direction, .hiddenWeight)
            case names.inputBias, names.hiddenBias: return (direction, .bias)
            default: continue
            }
        }
        return nil
    }
}

/// How `dissect prune --keep K` picks the units it keeps.
public enum PruneOrder: String, Codable, Sendable, CaseIterable {
    /// Keep the K units with the largest score (a unit's largest |s| over the labels).
    case sensitivity
    /// Keep the K units with the smallest score: the most sensitive go first.
    case reverse
    /// Keep K units drawn at random (seeded).
    case random
}

extension Pruning {
    /// The units to remove so that `keep` per direction remain, numbered [forward; backward] and sorted:
    /// per direction, units ranked by `scores` (`[H · directions]`; ties to the lower unit) or shuffled
    /// by `seed` (Fisher–Yates on `SplitMix64(seed:, stream: 0x5052_554E, direction)`), and all but the first
    /// `keep` removed. Requires 1 ≤ keep ≤ H.
    public static func removal(order: PruneOrder, keep: Int, scores: [Double], hiddenSize H: Int, directions: Int, seed: UInt64) -> [Int] {
        precondition((1...H).contains(keep) && scores.count == H * directions)
        var removed: [Int] = []
        for direction in 0..<directions {
            var units = Array(0..<H)
            let score = { (unit: Int) in scores[direction * H + unit] }
            switch order {
            case .sensitivity: units.sort { score($0) != score($1) ? score($0) > score($1) : $0 < $1 }
            case .reverse: units.sort { score($0) != score($1) ? score($0) < score($1) : $0 < $1 }
            case .random:
                var generator = SplitMix64(seed: seed, stream: 0x5052_554E, UInt64(direction))
                for index in stride(from: H - 1, to: 0, by: -1) { units.swapAt(index, generator.nextIndex(below: index + 1)) }
            }
            removed += units.dropFirst(keep).map { direction * H + $0 }
        }
        return removed.sorted()
    }
}
