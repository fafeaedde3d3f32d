import ArgumentParser
import DissectAnalysis
import DissectCore
import DissectReport
import DissectStudy
import Foundation

struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Measure how sensitive each neuron is to each label (the paper's Figures 2, 3, 7 and 8).",
        discussion: """
            Contribution of neuron i to label j at token t: u = W[i,j]·h_i(t). Sensitivity: \
            s[i,j] = mean(u | label = j) − mean(u | label ≠ j) over every token of the file. \
            Writes sensitivity.json, sensitivity.csv, rankings.csv, sensitivity.svg and sensitivity-top10.svg.
            """)

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The CoNLL file to average over (the paper uses the development set).")
    var data: String

    @Option(help: "The directory that receives the JSON, CSV and SVG files.")
    var out: String

    @OptionGroup var analysis: AnalysisOptions

    func run() throws {
        let run = try analysis.run(model: model, data: data)
        let sensitivity = Sensitivity(run: run, condition: analysis.condition)
        for label in sensitivity.undefinedLabels {
            Terminal.warn("\(data): label \(label) is \(analysis.condition == .predicted ? "never predicted" : "never the gold label") (or is every token's), so its sensitivity is undefined (null)")
        }
        let files = try AnalysisArtifacts.sensitivityFiles(AnalysisDocuments.sensitivity(sensitivity, run: run, data: data))
        try writeArtifacts(files, to: out)
        for label in CorrelationAnalysis.displayOrder(sensitivity.labels) {
            guard let index = sensitivity.labels.firstIndex(of: label) else { continue }
            let top = sensitivity.ranking(label: index).prefix(5).map(String.init).joined(separator: ", ")
            print("\(label.padding(toLength: 8, withPad: " ", startingAt: 0)) top neurons: \(top.isEmpty ? "(undefined)" : top)")
        }
        print("wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }
}
