import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectModel
import DissectReport
import Foundation

struct CorrelateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correlate",
        abstract: "Correlate labels across neurons for several models and say how alike the models are (the paper's Figure 6).",
        discussion: """
            For each model, the Pearson correlation between labels across neurons (columns of its sensitivity matrix); \
            then the mean pairwise similarity of those matrices, and each one against a reference matrix (the paper's). \
            With --agreement-data, also each label's ranking agreement between --data and that file (Spearman's rho, top-10 overlap).
            """)

    @Option(parsing: .upToNextOption, help: "Checkpoint directories written by `dissect train`, e.g. one per seed.")
    var models: [String]

    @Option(help: "The CoNLL file whose sensitivities are correlated.")
    var data: String

    @Option(help: "A sensitivity CSV in the paper's Figure 7 layout to compare against (default: ../shared/paper/figure7_sensitivity.csv when present).")
    var reference: String?

    @Option(help: "A second CoNLL file (e.g. the test set): report how each label's ranking agrees between the two files.")
    var agreementData: String?

    @Option(help: "The directory that receives the JSON, CSV and SVG files.")
    var out: String

    @OptionGroup var analysis: AnalysisOptions

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("--models needs at least one checkpoint directory.") }
    }

    func run() throws {
        var referenceMatrix: (name: String, labels: [String], values: [[Double?]])?
        let referencePath = reference ?? (FileManager.default.fileExists(atPath: "../shared/paper/figure7_sensitivity.csv")
            ? "../shared/paper/figure7_sensitivity.csv" : nil)
        if let referencePath {
            guard let text = try? String(contentsOfFile: referencePath, encoding: .utf8) else {
                throw DissectError(file: referencePath, problem: "cannot read the reference sensitivity CSV", fix: "pass --reference a readable CSV file")
            }
            let parsed = try CorrelationAnalysis.readSensitivityCSV(text, path: referencePath)
            let isPaper = reference == nil || referencePath.hasSuffix("figure7_sensitivity.csv")
            referenceMatrix = (isPaper ? "paper" : URL(fileURLWithPath: referencePath).lastPathComponent, parsed.labels, parsed.values)
        }
        // One m × m matrix per model and the reference, checked from each model.json before any model runs.
        for model in models {
            let labels = try Checkpoint.loadMetadata(from: model, option: "--models").vocabulary.labels.count
            try MemoryBudget.require(
                AnalysisMemory.correlation(labels: labels, matrices: models.count + 1),
                for: "correlating \(labels) labels across \(models.count) models", kind: .input,
                file: Checkpoint.metadataPath(model), fix: "correlate models with fewer labels")
        }
        var sensitivities: [(name: String, labels: [String], values: [[Double?]])] = []
        var agreements: [RankingAgreement] = []
        for model in models {
            let run = try analysis.run(model: model, data: data, option: "--models")
            let sensitivity = Sensitivity(run: run, condition: analysis.condition)
            for label in sensitivity.undefinedLabels { Terminal.warn("\(model): label \(label) has undefined sensitivity on \(data) (null)") }
            sensitivities.append((model, run.labels, sensitivity.values))
            if let agreementData {
                let other = Sensitivity(run: try analysis.run(model: model, data: agreementData, option: "--models"), condition: analysis.condition)
                for (index, label) in run.labels.enumerated() {
                    let a = sensitivity.values.map { $0[index] }, b = other.values.map { $0[index] }
                    let defined = !a.contains { $0 == nil } && !b.contains { $0 == nil }
                    agreements.append(RankingAgreement(
                        model: model, label: label,
                        spearman: defined ? Statistics.spearman(a.compactMap { $0 }, b.compactMap { $0 }) : nil,
                        topTenOverlap: Statistics.topOverlap(sensitivity.ranking(label: index), other.ranking(label: index), k: 10)))
                }
            }
        }
        let document = CorrelationStudy.make(
            data: data, agreementData: agreementData, models: sensitivities, reference: referenceMatrix,
            referencePath: referencePath, agreements: agreements)
        let files = try AnalysisArtifacts.correlationFiles(document)
        try writeArtifacts(files, to: out)
        if let mean = document.similarity.meanPairwise { print("mean pairwise similarity of the models' label correlations: \(format(mean, 3))") }
        for entry in document.similarity.againstReference {
            print("\(entry.model) vs \(document.referenceName ?? "reference"): \(entry.similarity.map { format($0, 3) } ?? "undefined")")
        }
        print("wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }
}
