import Foundation
import DissectCore

/// Label-by-label correlation of sensitivity matrices (the paper's Figure 6)
/// and how alike models are.
public struct LabelCorrelation: Codable, Sendable {
    public var name: String
    public var labels: [String]
    /// `[m][m]` Pearson r between label columns across neurons; nil where undefined.
    public var matrix: [[Double?]]
}

public struct RankingAgreement: Codable, Sendable {
    public var model: String
    public var label: String
    /// Spearman's rho between the label's sensitivity on the two files.
    public var spearman: Double?
    /// Neurons shared by the two top-10 lists.
    public var topTenOverlap: Int

    public init(model: String, label: String, spearman: Double?, topTenOverlap: Int) {
        self.model = model
        self.label = label
        self.spearman = spearman
        self.topTenOverlap = topTenOverlap
    }

    enum CodingKeys: String, CodingKey {
        case model, label, spearman
        case topTenOverlap = "top10_overlap"
    }
}

public enum CorrelationAnalysis {
    /// The paper's nine labels in its figure order.
    public static let paperLabelOrder = ["B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC", "O"]

    /// The display order: the paper's when the label set is the CoNLL NER set, else as given.
    public static func displayOrder(_ labels: [String]) -> [String] {
        Set(labels) == Set(paperLabelOrder) ? paperLabelOrder : labels
    }

    /// Columns of `values` (labelled `labels`) reordered to `order`; missing labels give nil columns.
    public static func reorder(_ values: [[Double?]], labels: [String], to order: [String]) -> [[Double?]] {
        let positions = order.map { labels.firstIndex(of: $0) }
        return values.map { row in positions.map { $0.flatMap { row[$0] } } }
    }

    public static func correlation(name: String, sensitivity: [[Double?]], labels: [String]) -> LabelCorrelation {
        LabelCorrelation(name: name, labels: labels, matrix: Statistics.columnCorrelation(sensitivity))
    }

    /// Mean of the pairwise similarities (Pearson r of off-diagonal entries) over all pairs of matrices.
    public static func meanPairwiseSimilarity(_ matrices: [[[Double?]]]) -> (mean: Double?, pairs: [Double?]) {
        var pairs: [Double?] = []
        for a in matrices.indices {
            for b in (a + 1)..<matrices.count { pairs.append(Statistics.offDiagonalSimilarity(matrices[a], matrices[b])) }
        }
        let defined = pairs.compactMap { $0 }
        return (defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count), pairs)
    }

    /// Reads a sensitivity CSV in the paper's Figure 7 layout: `neuron,<labels…>` then one row per neuron.
    ///
    /// - Throws: `DissectError` (.input) with the line for an empty file, a header
    ///   with no label, an empty or repeated label, a row of the wrong width, a
    ///   field that is not a finite number, and a file without rows.
    public static func readSensitivityCSV(_ text: String, path: String) throws -> (labels: [String], values: [[Double?]]) {
        let parsed = try readNumberCSV(text, path: path)
        return (parsed.labels, parsed.rows.map(\.values))
    }

    /// Reads a rankings CSV in the paper's Figure 8 layout: `rank,<labels…>`
    /// then one row per rank, each cell a neuron number. Empty cells are
    /// skipped; every other cell must be a whole number from 0 to rows − 1.
    ///
    /// - Throws: `DissectError` (.input) with the line, as `readSensitivityCSV`,
    ///   and for a cell that is not a neuron number.
    public static func readRankingCSV(_ text: String, path: String) throws -> (labels: [String], rankings: [String: [Int]]) {
        let parsed = try readNumberCSV(text, path: path)
        var rankings: [String: [Int]] = [:]
        for (column, label) in parsed.labels.enumerated() {
            var ranking: [Int] = []
            for row in parsed.rows {
                guard let value = row.values[column] else { continue }
                guard let neuron = Int(exactly: value), neuron >= 0, neuron < parsed.rows.count else {
                    throw DissectError(
                        file: path, line: row.line, problem: "'\(value)' under \(label) is not a neuron number (0 to \(parsed.rows.count - 1))",
                        fix: "write each rank's neuron as a whole number below the number of rows")
                }
                ranking.append(neuron)
            }
            rankings[label] = ranking
        }
        return (parsed.labels, rankings)
    }

    /// The header's labels and every row's values, each row with its 1-based line.
    static func readNumberCSV(_ text: String, path: String) throws -> (labels: [String], rows: [(line: Int, values: [Double?])]) {
        // Keep every line's own number for messages; blank lines are skipped, not renumbered.
        let numbered = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { (number: $0.offset + 1, text: String($0.element)) }
            .filter { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = numbered.first else {
            throw DissectError(file: path, line: 1, problem: "the file is empty", fix: "pass a CSV with a header `neuron,<labels…>`")
        }
        let labels = header.text.split(separator: ",", omittingEmptySubsequences: false).dropFirst().map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard !labels.isEmpty else {
            throw DissectError(file: path, line: header.number, problem: "the header names no labels", fix: "start the file with `neuron,<label>,<label>…`")
        }
        var columns: [String: Int] = [:]
        for (column, label) in labels.enumerated() {
            guard !label.isEmpty else {
                throw DissectError(
                    file: path, line: header.number, problem: "header column \(column + 2) has no label name",
                    fix: "name every column after the first")
            }
            if let earlier = columns.updateValue(column, forKey: label) {
                throw DissectError(
                    file: path, line: header.number,
                    problem: "the header names label \(label) twice (columns \(earlier + 2) and \(column + 2))",
                    fix: "give each label one column")
            }
        }
        var rows: [(line: Int, values: [Double?])] = []
        for line in numbered.dropFirst() {
            let fields = line.text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == labels.count + 1 else {
                throw DissectError(
                    file: path, line: line.number, problem: "the row has \(fields.count) fields but the header has \(labels.count + 1)",
                    fix: "give every row a neuron number and one value per label")
            }
            var row: [Double?] = []
            for field in fields.dropFirst() {
                if field.isEmpty || field == "null" { row.append(nil); continue }
                guard let value = Double(field), value.isFinite else {
                    throw DissectError(
                        file: path, line: line.number, problem: "'\(field)' is not a finite number",
                        fix: "write sensitivities as decimal numbers (empty for undefined)")
                }
                row.append(value)
            }
            rows.append((line.number, row))
        }
        guard !rows.isEmpty else {
            throw DissectError(file: path, line: header.number + 1, problem: "the file has no neuron rows", fix: "add one row per neuron")
        }
        return (labels, rows)
    }
}

public struct PairSimilarity: Codable, Sendable {
    public var first: String
    public var second: String
    public var similarity: Double?
}

public struct ReferenceSimilarity: Codable, Sendable {
    public var model: String
    public var similarity: Double?
}

public struct SimilaritySummary: Codable, Sendable {
    /// Mean over model pairs of the Pearson r between their matrices' off-diagonal entries.
    public var meanPairwise: Double?
    public var pairs: [PairSimilarity]
    public var againstReference: [ReferenceSimilarity]

    enum CodingKeys: String, CodingKey {
        case pairs
        case meanPairwise = "mean_pairwise"
        case againstReference = "against_reference"
    }
}

/// `correlation.json`.
public struct CorrelationDocument: Codable, Sendable {
    public var data: String
    public var agreementData: String?
    public var labels: [String]
    public var models: [LabelCorrelation]
    public var reference: LabelCorrelation?
    public var referenceName: String?
    public var referencePath: String?
    public var similarity: SimilaritySummary
    public var agreement: [RankingAgreement]

    enum CodingKeys: String, CodingKey {
        case data, labels, models, reference, similarity, agreement
        case agreementData = "agreement_data"
        case referenceName = "reference_name"
        case referencePath = "reference_path"
    }
}

public enum CorrelationStudy {
    /// Aligns every matrix to one label order (the paper's for CoNLL NER), correlates, and compares.
    public static func make(
        data: String, agreementData: String?, models: [(name: String, labels: [String], values: [[Double?]])],
        reference: (name: String, labels: [String], values: [[Double?]])?, referencePath: String?,
        agreements: [RankingAgreement]
    ) -> CorrelationDocument {
        let order = CorrelationAnalysis.displayOrder(models.first?.labels ?? reference?.labels ?? [])
        let correlations = models.map { model in
            CorrelationAnalysis.correlation(
                name: model.name, sensitivity: CorrelationAnalysis.reorder(model.values, labels: model.labels, to: order), labels: order)
        }
        let referenceCorrelation = reference.map { item in
            CorrelationAnalysis.correlation(
                name: item.name, sensitivity: CorrelationAnalysis.reorder(item.values, labels: item.labels, to: order), labels: order)
        }
        var pairs: [PairSimilarity] = []
        for a in correlations.indices {
            for b in (a + 1)..<correlations.count {
                pairs.append(PairSimilarity(
                    first: correlations[a].name, second: correlations[b].name,
                    similarity: Statistics.offDiagonalSimilarity(correlations[a].matrix, correlations[b].matrix)))
            }
        }
        let defined = pairs.compactMap(\.similarity)
        let against = referenceCorrelation.map { referenceMatrix in
            correlations.map { ReferenceSimilarity(model: $0.name, similarity: Statistics.offDiagonalSimilarity($0.matrix, referenceMatrix.matrix)) }
        } ?? []
        return CorrelationDocument(
            data: data, agreementData: agreementData, labels: order, models: correlations, reference: referenceCorrelation,
            referenceName: reference?.name, referencePath: referencePath,
            similarity: SimilaritySummary(
                meanPairwise: defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count), pairs: pairs,
                againstReference: against),
            agreement: agreements)
    }
}
