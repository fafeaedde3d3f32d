import Foundation
import Testing
@testable import DissectAnalysis
@testable import DissectReport
@testable import DissectStudy

/// The analysis documents and summary.json go through the one JSON writer:
/// an undefined figure is written as null and the file stays valid JSON.
@Suite struct JSONWriterTests {
    @Test func analysisDocumentsWriteNullForNonFiniteFigures() throws {
        var values = ReproduceSynthetic.sensitivity(seed: 1, neurons: 3)
        values[0][0] = .nan
        values[1][2] = -.infinity
        let document = ReproduceSynthetic.document(values, data: "dev.txt")
        let text = try AnalysisArtifacts.json(document)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let matrix = try #require(object["sensitivity"] as? [[Any]])
        #expect(matrix[0][0] is NSNull && matrix[1][2] is NSNull)
        #expect(matrix[0][1] is Double)
        // summary.json, with a NaN where a seed's F1 would be.
        var summary = ReproduceSynthetic.summary(seeds: [1, 2], withPaper: true)
        summary.seeds[0].record.devF1 = .nan
        let summaryText = try AnalysisArtifacts.json(summary)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(summaryText.utf8)) as? [String: Any])
        let seeds = try #require(parsed["seeds"] as? [[String: Any]])
        #expect((seeds[0]["record"] as? [String: Any])?["dev_f1"] is NSNull)
    }
}
