import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import Foundation

extension PruneOrder: ExpressibleByArgument {}

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Write a smaller model without some hidden units, optionally fine-tuned.",
        discussion: """
            Removing unit i deletes its rows in every gate block of the layer's input and recurrent weights and \
            both biases, its column in the recurrent weights and in what reads the layer (the output weights, or \
            the next layer's input weights for a lower layer), so the checkpoint is smaller and a uni-directional \
            single-layer model loads in torch.nn.LSTM with hidden size H − k. A stacked model's layers may then \
            differ in width: model.json records each (layer_hidden_sizes). Without \
            fine-tuning the pruned model predicts what recurrent-mode zero-ablation of the same units predicts. \
            Units are numbered [forward; backward] within the layer; a bidirectional model loses the same number \
            from each direction (--keep K keeps K per direction). --by sensitivity scores a unit by its largest |s| \
            over the labels on --rank-on and keeps the highest; reverse keeps the lowest; random keeps K drawn with \
            --seed. --fine-tune N then trains N epochs with the model's own training settings, the learning-rate \
            schedule restarted at epoch 1, and keeps the best-dev epoch.
            """)

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The directory that receives the pruned model.")
    var out: String

    @Option(help: "The units to remove, as a comma-separated list of unit numbers from 0 (forward units first, then backward).")
    var remove: String?

    @Option(help: "How many units per direction to keep, 1 or more; needs --by (and --rank-on for sensitivity and reverse).")
    var keep: Int?

    @Option(help: "Which units --keep keeps: the most sensitive ('sensitivity'), the least ('reverse'), or 'random'.")
    var by: PruneOrder?

    @Option(help: "The CoNLL file the sensitivity is measured on for --by sensitivity or reverse (the development set).")
    var rankOn: String?

    @Option(help: "The seed of --by random.")
    var seed: UInt64 = 1

    @Option(help: "The recurrent layer to prune, counted from 1 at the bottom (default: the top layer).")
    var layer: Int?

    @Option(help: "Epochs of training after the surgery, 0 (none) to 1000.")
    var fineTune = 0

    @Option(help: "The training file for --fine-tune (default: the one the checkpoint records).")
    var train: String?

    @Option(help: "The development file that picks the best fine-tuning epoch (default: the one the checkpoint records).")
    var dev: String?

    @Flag(help: "Replace a model already in --out.")
    var overwrite = false

    func validate() throws {
        switch (remove, keep) {
        case (nil, nil): throw ValidationError("Pass --remove LIST or --keep K with --by.")
        case (.some, .some): throw ValidationError("Pass --remove or --keep, not both.")
        case (.some, nil):
            if by != nil { throw ValidationError("--by goes with --keep, not with --remove.") }
        case (nil, .some(let keep)):
            if keep < 1 { throw ValidationError("--keep must be 1 or more; got \(keep).") }
            guard let by else { throw ValidationError("--keep needs --by sensitivity, reverse or random.") }
            if by != .random && rankOn == nil { throw ValidationError("--by \(by.rawValue) needs --rank-on FILE to measure the sensitivity on.") }
        }
        if let remove, Self.units(remove) == nil {
            throw ValidationError("--remove must be unit numbers from 0 separated by commas (e.g. 3,17,42); got '\(remove)'.")
        }
        try OptionChecks.layer(layer)
        guard (0...1000).contains(fineTune) else { throw ValidationError("--fine-tune must be 0 to 1000; got \(fineTune).") }
        if fineTune == 0 && (train != nil || dev != nil) { throw ValidationError("--train and --dev go with --fine-tune N.") }
    }

    /// "3,17,42" as numbers; nil when any item is not a number from 0.
    static func units(_ list: String) -> [Int]? {
        let items = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let numbers = items.map { Int($0) }
        guard !items.isEmpty, numbers.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        return numbers.compactMap { $0 }
    }

    func run() throws {
        let checkpoint = try Checkpoint.load(from: model)
        let c = checkpoint.model.configuration
        if let layer, layer > c.layers {
            throw DissectError(
                .usage, file: model, problem: "--layer \(layer) asks for a layer this model does not have (it has \(c.layers))",
                fix: "pass --layer 1 to \(c.layers), or leave it out for the top layer")
        }
        if FileManager.default.fileExists(atPath: out + "/model.json") && !overwrite {
            throw DissectError(
                .usage, file: out, problem: "the output directory already holds a model",
                fix: "pass --overwrite to replace it, or choose another --out")
        }
        if fineTune > 0 && checkpoint.metadata.training?.controlTask != nil {
            throw DissectError(
                .usage, file: model, problem: "the model was trained on a control task, which --fine-tune does not redraw",
                fix: "prune it without --fine-tune")
        }
        // 0-based; --layer counts from 1.
        let target = (layer ?? c.layers) - 1
        let H = c.hiddenSize(layer: target), directions = c.directionCount
        let removed: [Int], rule: String
        if let remove, let units = Self.units(remove) {
            removed = units
            rule = "list"
        } else if let keep, let by {
            guard keep <= H else {
                throw DissectError(
                    .usage, file: model, problem: "--keep \(keep) keeps more units than a direction has (\(H))",
                    fix: "pass --keep 1 to \(H)")
            }
            var scores = [Double](repeating: 0, count: H * directions)
            if by != .random, let rankOn {
                let options = try AnalysisOptions.predicted(layer: layer, tagColumn: nil)
                let run = try options.run(model: model, data: rankOn)
                scores = Sensitivity(run: run, condition: .predicted).largestMagnitudes
            }
            removed = Pruning.removal(order: by, keep: keep, scores: scores, hiddenSize: H, directions: directions, seed: seed)
            rule = by.rawValue
        } else {
            preconditionFailure("validate() requires --remove or --keep with --by")
        }
        var pruned = try Pruning.prune(checkpoint, removed: removed, layer: target, model: model)
        pruned.metadata.pruning?.rule = rule
        let sizeBefore = checkpoint.model.layout.totalCount, sizeAfter = pruned.model.layout.totalCount
        let layerName = c.layers > 1 ? " of layer \(target + 1)" : ""
        print("removed \(removed.count) of \(H * directions) units\(layerName) (\(rule)): hidden \(H) → \(pruned.model.configuration.hiddenSize(layer: target)) per direction, "
            + "\(sizeBefore) → \(sizeAfter) parameters")
        if fineTune == 0 {
            try pruned.save(to: out)
        } else {
            pruned = try fineTuned(pruned, from: checkpoint)
        }
        print("model in \(out)")
    }

    /// `pruned` trained `fineTune` epochs with the source's settings, written to `out` (best dev epoch).
    func fineTuned(_ pruned: Checkpoint, from source: Checkpoint) throws -> Checkpoint {
        let record = source.metadata.training
        guard let trainPath = train ?? record?.trainFile, let devPath = dev ?? record?.devFile else {
            throw DissectError(
                .usage, file: model, problem: "the checkpoint records no training and development files to fine-tune on",
                fix: "pass --train FILE and --dev FILE")
        }
        var request = TrainingRequest(trainPath: trainPath, devPath: devPath, outputDirectory: out)
        request.tagColumn = record?.tagColumn
        request.digitsToZero = source.metadata.digitsToZero
        request.configuration = pruned.model.configuration
        var options = record?.options ?? TrainingOptions()
        options.epochs = fineTune
        request.options = options
        request.interruptionFix = "rerun the prune command"
        var starting = pruned
        starting.metadata.pruning?.fineTuneEpochs = fineTune
        request.startingCheckpoint = starting
        let summary = try TrainingSession(request: request, report: Train.reporter(epochs: fineTune, prefix: "fine-tune ")).run()
        if let best = summary.checkpoint.metadata.training, let f1 = best.devF1 {
            print("fine-tuned \(fineTune) epochs: best epoch \(best.bestEpoch), dev F1 \(format(f1)) (NCRF++ \(format(best.devF1NCRF ?? 0)))")
        }
        return summary.checkpoint
    }
}
