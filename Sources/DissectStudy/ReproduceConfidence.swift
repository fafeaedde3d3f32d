import DissectAnalysis
import Foundation

/// The numbers of the report's "How sure" and "Control task" sections: one
/// computation each, which DissectReport only renders.
extension ReproduceNumbers {
    // MARK: How sure

    /// How sure one seed's dev sensitivity is, from `Sensitivity.Document.statistics`.
    package struct Confidence {
        package var name: String
        /// Cells that are findings, and defined cells; nil without findings.
        package var findings: Int?
        package var defined: Int?
        /// The findings rule, as the statistics state it.
        package var rule: String?
        package var resamples: Int?
        package var permutations: Int?
        /// Per label (the document's order): the mean Jaccard overlap of each resample's top 10 with the full sample's.
        package var stability: [(label: String, value: Double?)]

        /// Findings as a share of the defined cells, in [0, 1].
        package var findingShare: Double? {
            guard let findings, let defined, defined > 0 else { return nil }
            return Double(findings) / Double(defined)
        }
    }

    /// Findings as a share of the defined cells of one matrix, in [0, 1]; nil without findings.
    package static func findingShare(_ document: Sensitivity.Document) -> Double? {
        guard let findings = document.statistics?.findings, findings.defined > 0 else { return nil }
        return Double(findings.count) / Double(findings.defined)
    }

    /// One row per seed whose dev sensitivity carries statistics (names from `names`, else "model i").
    package static func confidence(_ documents: [Sensitivity.Document], names: [String]) -> [Confidence] {
        documents.enumerated().compactMap { index, document -> Confidence? in
            guard let statistics = document.statistics else { return nil }
            let stability = statistics.bootstrap?.topTenStability ?? []
            return Confidence(
                name: index < names.count ? names[index] : "model \(index + 1)",
                findings: statistics.findings?.count, defined: statistics.findings?.defined, rule: statistics.findings?.rule,
                resamples: statistics.bootstrap?.resamples, permutations: statistics.permutation?.permutations,
                stability: statistics.bootstrap == nil ? [] : document.labels.enumerated().map { column, label in
                    (label, column < stability.count ? stability[column] : nil)
                })
        }
    }

    package static func confidence(_ summary: ReproduceSummary) -> [Confidence] {
        confidence(summary.sensitivityDev, names: summary.seeds.map { seedName($0.seed) })
    }

    // MARK: Control task

    /// How many of a label's most sensitive neurons `concentration` sums.
    package static let concentrationTop = 10

    /// The share of a label's sensitivity held by its `top` neurons of largest |s|:
    /// Σ of the `top` largest |s[i, j]| / Σ over all neurons of |s[i, j]|, in [0, 1]
    /// (1: the label lives in those neurons; top / n for a flat column).
    /// - Returns: nil when the column has an undefined entry or is all zero.
    package static func concentration(_ values: [[Double?]], column: Int, top: Int = concentrationTop) -> Double? {
        var magnitudes: [Double] = []
        for row in values {
            guard column < row.count, let value = row[column], value.isFinite else { return nil }
            magnitudes.append(abs(value))
        }
        let total = magnitudes.reduce(0, +)
        guard total > 0 else { return nil }
        return magnitudes.sorted(by: >).prefix(max(0, top)).reduce(0, +) / total
    }

    package static var concentrationDefinition: String {
        "concentration = Σ of a label's \(concentrationTop) largest |s| / Σ of |s| over all neurons (dev; 1: all of it in \(concentrationTop) neurons)"
    }

    /// One measure of structure, the real models' mean beside the control models', and selectivity = real − control.
    package struct ControlRow {
        package var measure: String
        package var label: String
        package var real: Double?
        package var control: Double?
        package var selectivity: Double? {
            guard let real, let control else { return nil }
            return real - control
        }
    }

    /// The real models against the control-task models (Hewitt & Liang 2019), each a mean over seeds:
    /// the share of sensitivity cells that are findings (percent), each label's `concentration` (percent),
    /// and each ranked label's zero-value drop at k = `ablationK` (points) per mode. Nil without controls.
    package static func controlComparison(_ summary: ReproduceSummary) -> [ControlRow]? {
        guard let controls = summary.controls else { return nil }
        var rows: [ControlRow] = []
        func percentMean(_ values: [Double?]) -> Double? { mean(values.compactMap { $0 }).map { $0 * 100 } }
        rows.append(ControlRow(
            measure: "findings (% of cells)", label: "all",
            real: percentMean(summary.sensitivityDev.map(findingShare)), control: percentMean(controls.sensitivityDev.map(findingShare))))
        let labels = summary.sensitivityDev.first?.labels ?? controls.sensitivityDev.first?.labels ?? []
        func concentrations(_ documents: [Sensitivity.Document], _ label: String) -> [Double?] {
            documents.map { document in document.labels.firstIndex(of: label).flatMap { concentration(document.sensitivity, column: $0) } }
        }
        for label in labels {
            rows.append(ControlRow(
                measure: "concentration in the top \(concentrationTop) (%)", label: label,
                real: percentMean(concentrations(summary.sensitivityDev, label)),
                control: percentMean(concentrations(controls.sensitivityDev, label))))
        }
        let real = ablationRows(summary).filter { $0.value == .zero }
        let control = ablationRows(controls.ablations, summary: summary).filter { $0.value == .zero }
        for mode in AblationMode.allCases {
            var rankings: [String] = []
            for row in real + control where row.mode == mode && !rankings.contains(row.ranking) { rankings.append(row.ranking) }
            for ranking in rankings {
                func drops(_ rows: [AblationRow]) -> Double? {
                    mean(rows.filter { $0.mode == mode && $0.ranking == ranking }.compactMap(\.ranked))
                }
                rows.append(ControlRow(
                    measure: "ranked drop at k = \(ablationK), \(mode.rawValue) (points)", label: ranking,
                    real: drops(real), control: drops(control)))
            }
        }
        return rows
    }
}
