import DissectCore
import DissectStudy
import Foundation

/// The files `dissect sizes` writes, from a `SizesDocument`.
public enum SizesArtifacts {
    /// `sizes.json` (snake_case keys), `sizes.csv` (route, fine_tuned, hidden, test_f1, test_f1_ncrf, seconds; the full model as route `full`),
    /// `sizes.svg` (test F1 against hidden size, one line per route) and `sizes.md` (the table and the smallest sizes).
    public static func files(_ document: SizesDocument) throws -> [(String, String)] {
        [
            ("sizes.json", try JSONOutput.string(document, snakeCaseKeys: true)),
            ("sizes.csv", csv(document)),
            ("sizes.svg", SVGReport.lineChart(chart(document))),
            ("sizes.md", markdown(document)),
        ]
    }

    static func name(_ route: SizeRoute, fineTuned: Bool, epochs: Int) -> String {
        switch route {
        case .scratch: "trained from scratch"
        case .sensitivity, .random, .reverse:
            "pruned by \(route == .sensitivity ? "sensitivity" : route == .random ? "random order" : "reverse sensitivity")"
                + (fineTuned ? ", fine-tuned \(epochs) epoch\(epochs == 1 ? "" : "s")" : "")
        }
    }

    static func csv(_ document: SizesDocument) -> String {
        var rows = document.points.map { point in
            [
                point.route.rawValue, point.fineTuned ? "true" : "false", String(point.hidden), CSVReport.number(point.testF1),
                CSVReport.number(point.testF1NCRF), CSVReport.number(point.seconds, decimals: 3),
            ]
        }
        rows.append(["full", "false", String(document.fullHidden), CSVReport.number(document.fullTestF1), CSVReport.number(document.fullTestF1NCRF), ""])
        return CSVReport.table(header: ["route", "fine_tuned", "hidden", "test_f1", "test_f1_ncrf", "seconds"], rows: rows)
    }

    static func chart(_ document: SizesDocument) -> LineChart {
        let colors: [SizeRoute: String] = [.sensitivity: "#d55e00", .random: "#777777", .reverse: "#0072b2", .scratch: "#000000"]
        let series = SizesStudy.routes(document).map { route, fineTuned in
            let points = document.series(route: route, fineTuned: fineTuned)
            return LineSeries(
                name: name(route, fineTuned: fineTuned, epochs: document.fineTuneEpochs), x: points.map { Double($0.hidden) },
                y: points.map(\.testF1), color: colors[route], dashed: !fineTuned && route != .scratch, width: route == .scratch ? 3 : 2)
        }
        return LineChart(
            title: "Test F1 against hidden size (full model: \(document.fullHidden) units, F1 \(DecimalText.fixed(document.fullTestF1, decimals: 2)))",
            xLabel: "Hidden units per direction", yLabel: "Test F1 (conlleval)", series: series)
    }

    static func markdown(_ document: SizesDocument) -> String {
        var text = "# Hidden size selection\n\n"
        text += "The model `\(document.model)` has \(document.fullHidden) hidden units per direction and test F1 "
        text += "\(DecimalText.fixed(document.fullTestF1, decimals: 2)) on `\(document.data)` (conlleval's rules). Each smaller size is reached "
        text += "by pruning it (keeping the most sensitive units, random ones, or the least sensitive; seed \(document.seed)), with and without "
        text += "\(document.fineTuneEpochs) epoch\(document.fineTuneEpochs == 1 ? "" : "s") of fine-tuning, and by training that size from scratch "
        text += "(\(document.scratchEpochs) epochs, best dev epoch, the model's own settings and seed). \(DecimalText.fixed(document.seconds, decimals: 0)) s in all.\n\n"
        text += "## The smallest size within \(DecimalText.fixed(document.tolerance, decimals: 0)) F1 point of the full model\n\n"
        text += smallestTable(document).markdown
        text += "\n## Test F1 by size\n\n"
        text += bySizeTable(document).markdown
        return text + "\n![Test F1 against hidden size](sizes.svg)\n"
    }

    /// The terminal's summary: one line per route.
    public static func summaryLines(_ document: SizesDocument) -> [String] {
        SizesStudy.routes(document).map { route, fineTuned in
            let found = document.smallest.first { $0.route == route && $0.fineTuned == fineTuned }
            return "\(name(route, fineTuned: fineTuned, epochs: document.fineTuneEpochs)): smallest within \(DecimalText.fixed(document.tolerance, decimals: 0)) F1 point: "
                + (found.map { "\($0.hidden) units (test F1 \(DecimalText.fixed($0.testF1, decimals: 2)))" } ?? "none")
        }
    }

    /// Route × (hidden, test F1): the smallest size within the tolerance of the full model, "none" where no size is.
    static func smallestTable(_ document: SizesDocument) -> ReportTable {
        ReportTable(
            header: ["route", "hidden", "test F1"],
            rows: SizesStudy.routes(document).map { route, fineTuned in
                let found = document.smallest.first { $0.route == route && $0.fineTuned == fineTuned }
                return [
                    name(route, fineTuned: fineTuned, epochs: document.fineTuneEpochs), found.map { String($0.hidden) } ?? "none",
                    found.map { DecimalText.fixed($0.testF1, decimals: 2) } ?? "",
                ]
            },
            numeric: [1, 2])
    }

    /// Route × size: test F1 of every point, the full model in the last column.
    static func bySizeTable(_ document: SizesDocument) -> ReportTable {
        let sizes = Array(Set(document.points.map(\.hidden))).sorted()
        let columns = sizes.map(String.init) + [String(document.fullHidden)]
        return ReportTable(
            header: ["route"] + columns,
            rows: SizesStudy.routes(document).map { route, fineTuned in
                [name(route, fineTuned: fineTuned, epochs: document.fineTuneEpochs)] + sizes.map { size in
                    document.points.first { $0.route == route && $0.fineTuned == fineTuned && $0.hidden == size }
                        .map { DecimalText.fixed($0.testF1, decimals: 2) } ?? ""
                } + [DecimalText.fixed(document.fullTestF1, decimals: 2)]
            },
            numeric: Set(1...columns.count), tableClass: "compact")
    }
}
