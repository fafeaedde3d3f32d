import DissectAnalysis
import Foundation

/// The documents the analyses hand on, as a study lays them out: shared by
/// `reproduce` and the single-analysis commands, so `sensitivity.json` reads
/// the same either way.
public enum AnalysisDocuments {
    /// The sensitivity document with its columns in display order (the paper's for CoNLL NER),
    /// and `statistics` (columns in `sensitivity.labels` order, as computed) reordered to match.
    public static func sensitivity(
        _ sensitivity: Sensitivity, run: ModelRun, data: String, statistics: SensitivityStatistics? = nil
    ) -> Sensitivity.Document {
        let order = CorrelationAnalysis.displayOrder(sensitivity.labels)
        var document = sensitivity.document(data: data, predictedCounts: run.predictedCounts)
        document.labels = order
        document.sensitivity = CorrelationAnalysis.reorder(sensitivity.values, labels: sensitivity.labels, to: order)
        document.statistics = statistics?.reordered(labels: sensitivity.labels, to: order)
        return document
    }
}

/// How labels become parts of file and folder names (`ablation-readout-B-PER-B-MISC/`,
/// `ablation-B-PER.svg`): the study's folders and the renderer's files use the same spelling.
public enum FileNames {
    /// A label as a file-name part: letters, digits, '.', '_' and '-' kept, anything else '_'.
    public static func safe(_ label: String) -> String {
        String(label.unicodeScalars.map { scalar -> Character in
            let allowed = CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || "._-".unicodeScalars.contains(scalar)
            return allowed ? Character(scalar) : "_"
        })
    }
}

/// The files (name, contents) each analysis of a study is written as: JSON,
/// CSV and SVG, drawn by DissectReport (`AnalysisArtifacts.renderers`). A
/// study decides what is measured and in which folder its files go; what the
/// files look like is the renderer's, passed in so this module draws nothing.
public struct AnalysisRenderers: Sendable {
    public var sensitivity: @Sendable (Sensitivity.Document) throws -> [(String, String)]
    public var ablation: @Sendable (AblationDocument) throws -> [(String, String)]
    public var correlation: @Sendable (CorrelationDocument) throws -> [(String, String)]
    public var comparison: @Sendable (Comparison) throws -> [(String, String)]
    public var ranking: @Sendable (RankingDocument) throws -> [(String, String)]
    public var sizes: @Sendable (SizesDocument) throws -> [(String, String)]

    public init(
        sensitivity: @escaping @Sendable (Sensitivity.Document) throws -> [(String, String)],
        ablation: @escaping @Sendable (AblationDocument) throws -> [(String, String)],
        correlation: @escaping @Sendable (CorrelationDocument) throws -> [(String, String)],
        comparison: @escaping @Sendable (Comparison) throws -> [(String, String)],
        ranking: @escaping @Sendable (RankingDocument) throws -> [(String, String)],
        sizes: @escaping @Sendable (SizesDocument) throws -> [(String, String)] = { _ in [] }
    ) {
        self.sizes = sizes
        self.sensitivity = sensitivity
        self.ablation = ablation
        self.correlation = correlation
        self.comparison = comparison
        self.ranking = ranking
    }
}
