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
            A sentence-level bootstrap gives 95 % intervals for every s[i,j] and rank; a permutation test, \
            which swaps label sequences between sentences of the same length, gives p and Benjamini–Hochberg q. \
            \(SensitivityStatistics.findingRule().prefix(1).uppercased() + SensitivityStatistics.findingRule().dropFirst()). \
            Writes sensitivity.json, sensitivity.csv, rankings.csv, sensitivity-cells.csv (with the statistics), \
            sensitivity.svg and sensitivity-top10.svg.
            """)

    static let largestCount = SensitivityStatistics.largestCount

    @Option(help: "The checkpoint directory written by `dissect train`.")
    var model: String

    @Option(help: "The CoNLL file to average over (the paper uses the development set).")
    var data: String

    @Option(help: "The directory that receives the JSON, CSV and SVG files.")
    var out: String

    @Option(parsing: .unconditional, help: "How many sentence-level bootstrap resamples give the intervals, 0 to 100000 (0 turns the bootstrap off).")
    var bootstrap = 1000

    @Option(parsing: .unconditional, help: "How many permutations test each cell, 0 to 100000 (0 turns the test off).")
    var permutations = 1000

    @Option(help: "The seed of the bootstrap resamples and of the permutations.")
    var seed: UInt64 = 1

    @OptionGroup var analysis: AnalysisOptions

    func validate() throws {
        for (flag, value) in [("--bootstrap", bootstrap), ("--permutations", permutations)] where !(0...Self.largestCount).contains(value) {
            throw ValidationError("\(flag) must be 0 to \(Self.largestCount) (0 turns it off); got \(value).")
        }
    }

    func run() throws {
        let run = try analysis.run(model: model, data: data)
        try MemoryBudget.require(
            AnalysisMemory.sensitivityStatistics(
                neurons: run.neuronCount, labels: run.labels.count, sentences: run.sentenceStarts.count - 1, tokens: run.tokenCount,
                resamples: bootstrap, permutations: permutations),
            for: "--bootstrap \(bootstrap) and --permutations \(permutations) on this file", kind: .usage, file: data,
            fix: "choose a smaller --bootstrap or --permutations")
        let sensitivity = Sensitivity(run: run, condition: analysis.condition)
        for label in sensitivity.undefinedLabels {
            Terminal.warn("\(data): label \(label) is \(analysis.condition == .predicted ? "never predicted" : "never the gold label") (or is every token's), so its sensitivity is undefined (null)")
        }
        var statistics: SensitivityStatistics? = nil
        var timing: SensitivityStatistics.Timing? = nil
        if bootstrap > 0 || permutations > 0 {
            let computed = SensitivityStatistics.timed(
                run: run, sensitivity: sensitivity, bootstrap: bootstrap, permutations: permutations, seed: seed)
            statistics = computed.statistics
            timing = computed.timing
        }
        let document = AnalysisDocuments.sensitivity(sensitivity, run: run, data: data, statistics: statistics)
        let files = try AnalysisArtifacts.sensitivityFiles(document)
        try writeArtifacts(files, to: out)
        for (index, label) in document.labels.enumerated() {
            let top = (document.rankings[label] ?? []).prefix(5).map(String.init).joined(separator: ", ")
            var line = "\(label.padding(toLength: 8, withPad: " ", startingAt: 0)) top neurons: \(top.isEmpty ? "(undefined)" : top)"
            if let stability = document.statistics?.bootstrap?.topTenStability[index] {
                line += "; top-10 stability \(format(stability))"
            }
            print(line)
        }
        if let statistics = document.statistics, let timing {
            var parts: [String] = []
            if let bootstrap = statistics.bootstrap { parts.append("\(bootstrap.resamples) bootstrap resamples in \(format(timing.bootstrap, 2)) s") }
            if let permutation = statistics.permutation { parts.append("\(permutation.permutations) permutations in \(format(timing.permutation, 2)) s") }
            print("statistics: " + parts.joined(separator: ", ") + " (seed \(seed))")
            if let findings = statistics.findings {
                print("findings: \(findings.count) of \(findings.defined) cells (rule: \(findings.rule))")
            } else {
                print("findings: not computed, they need both --bootstrap and --permutations (rule: \(SensitivityStatistics.findingRule()))")
            }
        }
        print("wrote \(files.map(\.0).joined(separator: ", ")) to \(out)")
    }
}
