import DissectAnalysis
import DissectCore
import Foundation

/// The files `dissect rank` writes: rankings.json, rankings.csv, ranking-scores.csv and ranking-drops.svg.
public enum RankingArtifacts {
    /// The heatmap of drop at 10 (points), methods × labels.
    public static func dropHeatmap(_ document: RankingDocument) -> Heatmap {
        Heatmap(
            title: "Drop in each label's accuracy with its top \(document.dropK) neurons ablated (points)",
            rowLabels: document.methods.map(\.method.rawValue), columnLabels: document.labels,
            values: document.methods.map { method in document.labels.map { method.labels[$0]?.dropAt10 } },
            decimals: 1,
            caption: "Ranked on \(document.rankOn), ablated (h_i ← 0, \(document.mode.rawValue) mode) on \(document.data); larger is a more important ranking")
    }

    public static func files(_ document: RankingDocument) throws -> [(String, String)] {
        var rows: [[String]] = []
        var scoreRows: [[String]] = []
        for method in document.methods {
            for label in document.labels {
                guard let entry = method.labels[label] else { continue }
                for (rank, neuron) in entry.ranking.enumerated() {
                    rows.append([method.method.rawValue, label, String(rank + 1), String(neuron), CSVReport.number(entry.scores[neuron])])
                }
                scoreRows.append([
                    method.method.rawValue, label, CSVReport.number(entry.dropAt10), CSVReport.number(entry.area),
                    entry.top10OverlapWithSensitivity.map(String.init) ?? "", CSVReport.number(entry.spearmanWithSensitivity),
                ])
            }
        }
        return [
            ("rankings.json", try AnalysisArtifacts.json(document)),
            ("rankings.csv", CSVReport.table(header: ["method", "label", "rank", "neuron", "score"], rows: rows)),
            ("ranking-scores.csv", CSVReport.table(
                header: ["method", "label", "drop_at_10", "area", "top10_overlap_with_sensitivity", "spearman_with_sensitivity"],
                rows: scoreRows)),
            ("ranking-drops.svg", SVGReport.heatmap(dropHeatmap(document))),
        ]
    }
}
