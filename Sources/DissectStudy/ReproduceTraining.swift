import DissectCore
import DissectModel
import Foundation

/// Training several seeds at once.
///
/// The paper's model (hidden 50, batch 10) trains latency-bound: one model on two threads meets at
/// every batch, and measured here two seeds trained side by side with one thread each took 4.1–5.0 s
/// for two epochs where one after the other with two threads each took 6.0–6.1 s. A model's bytes do
/// not depend on its threads, so the width only changes the wall time.
extension ReproducePipeline {
    /// The threads the run may use: `--threads` (`Parallelism.threadLimit`), every core without a cap.
    var runThreads: Int { Parallelism.threadLimit > 0 ? Parallelism.threadLimit : ProcessInfo.processInfo.activeProcessorCount }

    /// How many models train at once: one per thread of the run, at most `models`.
    func trainingWidth(models: Int) -> Int { max(1, min(models, runThreads)) }

    /// Trains `models` side by side, each with its share of the threads (`--threads` divided by their count,
    /// at least 1), and returns their summaries in order. Progress events reach `report` one at a time.
    /// Every model runs to its end (finished, stopped or failed) before the first failure, in model order, is thrown:
    /// a model that finished is saved, and a rerun reuses it.
    func trainTogether(_ models: [PlannedModel], hashes: InputHashes) throws -> [TrainingSession.Summary] {
        let seeds = models.map(\.seed)
        let requests = models.map { model in
            var training = trainingRequest(seed: model.seed, directory: directory(model), hashes: hashes, control: model.control)
            training.interruptionFix = ReproducePipeline.rerunAdvice(seeds: seeds)
            training.modelsSideBySide = models.count
            return training
        }
        let report = self.report
        if models.count == 1, let model = models.first, let training = requests.first {
            return [try timed("\(model.name): train \(request.epochs) epochs") {
                try TrainingSession(request: training) { event in report(.training(model: model.name, event)) }.run()
            }]
        }
        let saved = Parallelism.threadLimit
        Parallelism.threadLimit = max(1, runThreads / models.count)
        defer { Parallelism.threadLimit = saved }
        let lock = NSLock()
        var outcomes = [Result<TrainingSession.Summary, Error>?](repeating: nil, count: models.count)
        let waveName = models.dropLast().map(\.name).joined(separator: ", ") + " and " + (models.last?.name ?? "")
        timed("\(waveName): train \(request.epochs) epochs side by side") {
            outcomes.withUnsafeMutableBufferPointer { buffer in
                // Each member writes only its own slot (the `parallelFor` contract).
                nonisolated(unsafe) let slots = buffer
                ThreadTeam(size: models.count).run { member in
                    let model = models[member]
                    slots[member] = Result {
                        try TrainingSession(request: requests[member]) { event in
                            lock.withLock { report(.training(model: model.name, event)) }
                        }.run()
                    }
                }
            }
        }
        let summaries = outcomes.compactMap { outcome in if case .success(let summary) = outcome { summary } else { nil } }
        for outcome in outcomes { if case .failure(let error) = outcome { throw error } }
        return summaries
    }
}
