import DissectAnalysis
import DissectCore
import Foundation

/// The files `dissect concepts` writes, from a `Concepts.Document`.
public enum ConceptArtifacts {
    /// `concepts.json` (the document, snake_case keys), `concepts.md` (the tables a reader starts from),
    /// `concept-cells.csv` (every neuron × property value), `concept-top.csv` and `concept-shared.csv`.
    public static func files(_ document: Concepts.Document) throws -> [(String, String)] {
        [
            ("concepts.json", try JSONOutput.string(document, snakeCaseKeys: true)),
            ("concepts.md", markdown(document)),
            ("concept-cells.csv", cells(document)),
            ("concept-top.csv", topCSV(document)),
            ("concept-shared.csv", sharedCSV(document)),
        ]
    }

    static func describe(_ description: Concepts.Description?) -> String {
        guard let description else { return "" }
        return "\(description.property) = \(description.value)"
    }

    /// `neuron,property,value,tokens,difference,lower,upper,auc`, blank where undefined or not computed.
    static func cells(_ document: Concepts.Document) -> String {
        var rows: [[String]] = []
        for neuron in 0..<document.neurons {
            for property in document.properties {
                for (index, value) in property.values.enumerated() {
                    func cell(_ matrix: [[Double?]]?) -> String { CSVReport.number(matrix?[neuron][index] ?? nil) }
                    rows.append([
                        String(neuron), property.name, value, String(property.counts[index]), cell(property.difference),
                        cell(property.lower), cell(property.upper), cell(property.auc),
                    ])
                }
            }
        }
        return CSVReport.table(header: ["neuron", "property", "value", "tokens", "difference", "lower", "upper", "auc"], rows: rows)
    }

    static func topRow(_ item: Concepts.TopNeuron) -> [String] {
        [
            item.label, String(item.rank), String(item.neuron), CSVReport.number(item.sensitivity), CSVReport.number(item.labelAUC),
            item.best?.property ?? "", item.best?.value ?? "", CSVReport.number(item.best?.auc), CSVReport.number(item.best?.difference),
            item.labelIsBest ? "true" : "false", CSVReport.number(item.within), CSVReport.number(item.remaining),
        ]
    }

    static let topHeader = [
        "label", "rank", "neuron", "sensitivity", "label_auc", "best_property", "best_value", "best_auc", "best_difference",
        "label_is_best", "within", "remaining",
    ]

    static func topCSV(_ document: Concepts.Document) -> String {
        CSVReport.table(header: topHeader, rows: document.topNeurons.map(topRow))
    }

    static func sharedCSV(_ document: Concepts.Document) -> String {
        let rows = document.sharedNeurons.map { item in
            [
                String(item.neuron), item.labels.joined(separator: " "), item.best?.property ?? "", item.best?.value ?? "",
                CSVReport.number(item.best?.auc), item.shared?.property ?? "", item.shared?.value ?? "", CSVReport.number(item.shared?.auc),
                item.coverage.map { CSVReport.number($0, decimals: 4) }.joined(separator: " "), CSVReport.number(item.baseRate, decimals: 4),
            ]
        }
        return CSVReport.table(
            header: ["neuron", "labels", "best_property", "best_value", "best_auc", "shared_property", "shared_value", "shared_auc", "coverage", "base_rate"],
            rows: rows)
    }

    static func percent(_ value: Double?) -> String {
        guard let value else { return "–" }
        return DecimalText.fixed(100 * value, decimals: 0) + " %"
    }

    static func number(_ value: Double?, _ decimals: Int = 2) -> String {
        value.map { DecimalText.fixed($0, decimals: decimals) } ?? "–"
    }

    /// One line per label for the terminal: its top neuron, what describes it best, and what is left of s.
    public static func summaryLines(_ document: Concepts.Document) -> [String] {
        document.labels.compactMap { label in
            guard let item = document.topNeurons.first(where: { $0.label == label && $0.rank == 1 }) else { return nil }
            let padded = label.padding(toLength: 8, withPad: " ", startingAt: 0)
            let what = item.labelIsBest
                ? "the label itself (label AUC \(number(item.labelAUC)); best property \(describe(item.best)), AUC \(number(item.best?.auc)))"
                : "\(describe(item.best)) (AUC \(number(item.best?.auc)); label AUC \(number(item.labelAUC)))"
            return "\(padded) top neuron \(item.neuron): best described by \(what); "
                + "\(percent(item.remaining)) of its sensitivity remains with \(item.best?.property ?? "the property") held fixed"
        }
    }

    static func markdown(_ document: Concepts.Document) -> String {
        var text = "# What the neurons detect\n\n"
        text += "Layer \(document.layer), \(document.neurons) neurons, \(document.tokens) tokens of `\(document.data)`; "
        text += document.bootstrap > 0
            ? "\(Int(document.level * 100)) % intervals from \(document.bootstrap) sentence-level bootstrap resamples (seed \(document.seed)).\n\n"
            : "no bootstrap.\n\n"
        text += "A neuron's **best description** is the property value with the largest |AUC − 0.5| of h_i among the values at least "
        text += "\(document.minimumTokens) tokens have and do not have. **Label AUC** is that of \"predicted = label\". **Remaining** is the "
        text += "sensitivity computed within each value of the best description's property (weighted by the tokens predicted as the label), "
        text += "as a share of the sensitivity: near 0 % the property explains the label's sensitivity, near 100 % the neuron sees more than it.\n\n"
        text += "## Each label's top \(document.top) neurons\n\n"
        let rows = document.topNeurons.map { item in
            [
                item.label, String(item.rank), String(item.neuron), number(item.sensitivity, 3), number(item.labelAUC),
                describe(item.best), number(item.best?.auc), item.labelIsBest ? "label" : "property", number(item.within, 3), percent(item.remaining),
            ]
        }
        text += MarkdownReport.table(
            header: ["label", "rank", "neuron", "s", "label AUC", "best description", "AUC", "better", "s within", "remaining"], rows: rows)
        text += "\n## Neurons among the top \(document.top) of several labels\n\n"
        if document.sharedNeurons.isEmpty {
            text += "None.\n"
        } else {
            text += "**Shared** is the value over-represented in every one of the labels' predicted tokens (largest minimum of "
            text += "share of the label's tokens − share of all tokens); coverage is each label's share, in the order listed.\n\n"
            text += MarkdownReport.table(
                header: ["neuron", "labels", "best description", "AUC", "shared", "coverage", "all tokens"],
                rows: document.sharedNeurons.map { item in
                    [
                        String(item.neuron), item.labels.joined(separator: ", "), describe(item.best), number(item.best?.auc),
                        describe(item.shared), item.coverage.map { percent($0) }.joined(separator: ", "), percent(item.baseRate),
                    ]
                })
        }
        text += "\n## Properties\n\n"
        text += MarkdownReport.table(
            header: ["property", "source", "values (tokens)"],
            rows: document.properties.map { property in
                [property.name, property.source, zip(property.values, property.counts).map { "\($0) (\($1))" }.joined(separator: ", ")]
            })
        if let file = document.frequencyFile { text += "\nTraining frequencies are counted in `\(file)`.\n" }
        return text
    }
}
