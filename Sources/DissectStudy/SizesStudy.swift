import DissectAnalysis
import DissectCore
import DissectCorpus
import DissectModel
import Foundation

/// How a model of a smaller hidden size is reached in the hidden-size study.
public enum SizeRoute: String, Codable, Sendable, CaseIterable {
    /// Prune the least sensitive units (keep the largest max_j |s[i, j]| on dev).
    case sensitivity
    /// Prune units at random (seeded).
    case random
    /// Prune the most sensitive units first (keep the smallest scores).
    case reverse
    /// Train a model of that size from scratch, with the model's own settings and seed.
    case scratch
}

/// The paper's second open question, measured: "what will happen if [the neurons no label needs] are
/// removed, and … how this can help model compression and hidden size selection". Test F1 against the
/// hidden size for three pruning routes (each with and without fine-tuning) and for training that size
/// from scratch, and per route the smallest size within `tolerance` F1 points of the full model.
public struct SizesRequest: Sendable {
    public var model: String
    public var checkpoint: Checkpoint
    public var trainPath: String
    public var devPath: String
    public var testPath: String
    /// The scratch route's word vectors (nil: at random, as a model trained with --no-embeddings).
    public var embeddingsPath: String?
    /// Hidden sizes per direction, each from 1 to below the model's.
    public var sizes: [Int]
    public var fineTuneEpochs = 1
    /// The seed of the random pruning order.
    public var seed: UInt64 = 1
    /// Where the trainings write their checkpoints while they run; removed at the end.
    public var workDirectory: String

    public init(model: String, checkpoint: Checkpoint, trainPath: String, devPath: String, testPath: String, sizes: [Int], workDirectory: String) {
        self.model = model
        self.checkpoint = checkpoint
        self.trainPath = trainPath
        self.devPath = devPath
        self.testPath = testPath
        self.sizes = sizes
        self.workDirectory = workDirectory
    }
}

public struct SizesDocument: Codable, Sendable {
    /// One model of the study: its route, whether it was fine-tuned, its size and scores.
    public struct Point: Codable, Sendable, Equatable {
        public var route: SizeRoute
        public var fineTuned: Bool
        public var hidden: Int
        /// Test F1 by conlleval's rules and by NCRF++'s scorer.
        public var testF1: Double
        public var testF1NCRF: Double
        public var seconds: Double
    }

    /// The smallest size of one route within `tolerance` points of the full model (the full size when none smaller is).
    public struct Smallest: Codable, Sendable, Equatable {
        public var route: SizeRoute
        public var fineTuned: Bool
        public var hidden: Int
        public var testF1: Double
    }

    public var model: String
    public var data: String
    public var fullHidden: Int
    public var fullTestF1: Double
    public var fullTestF1NCRF: Double
    public var tolerance: Double
    public var fineTuneEpochs: Int
    public var scratchEpochs: Int
    public var seed: UInt64
    public var points: [Point]
    public var smallest: [Smallest]
    public var seconds: Double

    /// The series of one route, in increasing size, ending at the full model.
    public func series(route: SizeRoute, fineTuned: Bool) -> [(hidden: Int, testF1: Double)] {
        points.filter { $0.route == route && $0.fineTuned == fineTuned }.sorted { $0.hidden < $1.hidden }.map { ($0.hidden, $0.testF1) }
            + [(fullHidden, fullTestF1)]
    }
}

public enum SizesStudy {
    /// "Within 1 F1 point of the full model."
    public static let tolerance = 1.0

    /// The sizes 5, 10, … below `hiddenSize` (the issue's 5 … 50 in steps of 5 for the paper's 50).
    public static func defaultSizes(hiddenSize: Int) -> [Int] {
        Array(stride(from: 5, to: hiddenSize, by: 5))
    }

    /// Runs every route at every size; `report` gets one line per model as it finishes.
    /// - Throws: `DissectError` from reading the files, training, or a size outside 1 ..< the model's.
    public static func run(_ request: SizesRequest, report: @escaping (String) -> Void) throws -> SizesDocument {
        let started = Date()
        let checkpoint = request.checkpoint
        let c = checkpoint.model.configuration
        precondition(c.distinctLayerSizes == nil, "the study prunes models whose layers have one width")
        precondition(request.sizes.allSatisfy { (1..<c.hiddenSize).contains($0) }, "sizes must be 1 ..< \(c.hiddenSize)")
        let record = checkpoint.metadata.training
        let column = record?.tagColumn
        let dev = try CoNLLReader.read(path: request.devPath, tagColumn: column)
        let test = try CoNLLReader.read(path: request.testPath, tagColumn: column)
        let hashes = try InputHashes.compute(
            trainPath: request.trainPath, devPath: request.devPath, testPath: nil, embeddingsPath: request.embeddingsPath)
        try AtomicFile.makeDirectory(request.workDirectory)
        defer { try? FileManager.default.removeItem(atPath: request.workDirectory) }

        func score(_ model: Checkpoint) -> (f1: Double, ncrf: Double) {
            let encoder = SentenceEncoder(metadata: model.metadata)
            let result = Predictor<Float>(configuration: model.model.configuration).evaluate(
                checkpointModel: model.model, encoder: encoder, corpus: test)
            return (result.report.f1, result.report.ncrfF1)
        }
        func train(_ training: TrainingRequest) throws -> Checkpoint {
            var training = training
            training.inputHashes = hashes
            training.tagColumn = column
            training.digitsToZero = checkpoint.metadata.digitsToZero
            training.interruptionFix = "rerun `dissect sizes`"
            let summary = try TrainingSession(request: training) { event in
                if case .warning(let text) = event { report("warning: " + text) }
            }.run()
            try? FileManager.default.removeItem(atPath: training.outputDirectory)
            return summary.checkpoint
        }

        let full = score(checkpoint)
        // Each layer's units scored on dev (below the top by the activation difference, `Sensitivity`).
        let devCorpus = try checkpoint.analysisCorpus(dev)
        let layerScores = (0..<c.layers).map { layer in
            Sensitivity(run: ModelRun(checkpoint: checkpoint, corpus: devCorpus, layer: layer), condition: .predicted).largestMagnitudes
        }
        let options = record?.options ?? TrainingOptions()
        var points: [SizesDocument.Point] = []
        func add(_ route: SizeRoute, fineTuned: Bool, hidden: Int, model: Checkpoint, since: Date) {
            let (f1, ncrf) = score(model)
            let point = SizesDocument.Point(
                route: route, fineTuned: fineTuned, hidden: hidden, testF1: f1, testF1NCRF: ncrf, seconds: Date().timeIntervalSince(since))
            points.append(point)
            report("\(route.rawValue)\(fineTuned ? " + fine-tune" : "") hidden \(hidden): test F1 \(DecimalText.fixed(f1, decimals: 2))")
        }
        for hidden in request.sizes.sorted(by: >) {
            for route in [SizeRoute.sensitivity, .random, .reverse] {
                let routeStart = Date()
                let order: PruneOrder = route == .sensitivity ? .sensitivity : route == .random ? .random : .reverse
                // Every layer cut to `hidden`, each by its own scores (random: its own draw, seed + layer).
                var pruned = checkpoint
                for layer in 0..<c.layers {
                    let removed = Pruning.removal(
                        order: order, keep: hidden, scores: layerScores[layer], hiddenSize: c.hiddenSize, directions: c.directionCount,
                        seed: request.seed &+ UInt64(layer))
                    pruned = try Pruning.prune(pruned, removed: removed, layer: layer, model: request.model)
                }
                pruned.metadata.pruning?.rule = order.rawValue
                add(route, fineTuned: false, hidden: hidden, model: pruned, since: routeStart)
                guard request.fineTuneEpochs > 0 else { continue }
                let tuneStart = Date()
                var tuning = TrainingRequest(
                    trainPath: request.trainPath, devPath: request.devPath,
                    outputDirectory: request.workDirectory + "/\(route.rawValue)-\(hidden)")
                pruned.metadata.pruning?.fineTuneEpochs = request.fineTuneEpochs
                tuning.startingCheckpoint = pruned
                tuning.configuration = pruned.model.configuration
                tuning.options = options
                tuning.options.epochs = request.fineTuneEpochs
                add(route, fineTuned: true, hidden: hidden, model: try train(tuning), since: tuneStart)
            }
            let scratchStart = Date()
            var scratch = TrainingRequest(
                trainPath: request.trainPath, devPath: request.devPath, outputDirectory: request.workDirectory + "/scratch-\(hidden)")
            scratch.embeddingsPath = request.embeddingsPath
            scratch.configuration = c
            scratch.configuration.hiddenSize = hidden
            scratch.options = options
            if let rule = record.flatMap({ VocabularyRule(rawValue: $0.vocabularyRule) }) { scratch.vocabularyRule = rule }
            add(.scratch, fineTuned: false, hidden: hidden, model: try train(scratch), since: scratchStart)
        }
        var document = SizesDocument(
            model: request.model, data: request.testPath, fullHidden: c.hiddenSize, fullTestF1: full.f1, fullTestF1NCRF: full.ncrf,
            tolerance: tolerance, fineTuneEpochs: request.fineTuneEpochs, scratchEpochs: options.epochs, seed: request.seed,
            points: points, smallest: [], seconds: 0)
        document.smallest = smallest(document)
        document.seconds = Date().timeIntervalSince(started)
        return document
    }

    /// Every route of `document` (fine-tuned or not where it ran), in the order the files list them.
    public static func routes(_ document: SizesDocument) -> [(SizeRoute, Bool)] {
        [SizeRoute.sensitivity, .random, .reverse].flatMap { route in
            [(route, false)] + (document.fineTuneEpochs > 0 ? [(route, true)] : [])
        } + [(.scratch, false)]
    }

    /// Per route, the smallest size whose test F1 is at least the full model's minus `document.tolerance`
    /// (the full size itself when no smaller one is).
    public static func smallest(_ document: SizesDocument) -> [SizesDocument.Smallest] {
        routes(document).compactMap { route, fineTuned in
            document.series(route: route, fineTuned: fineTuned).first { $0.testF1 >= document.fullTestF1 - document.tolerance }
                .map { SizesDocument.Smallest(route: route, fineTuned: fineTuned, hidden: $0.hidden, testF1: $0.testF1) }
        }
    }
}
