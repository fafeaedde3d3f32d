import Foundation
import Testing
@testable import DissectReport
@testable import DissectStudy

extension ReproduceSynthetic {
    static func write(_ summary: ReproduceSummary, to directory: String) throws {
        // The layout `dissect reproduce` writes: the figures in figures/ beside the reports.
        try FileManager.default.createDirectory(atPath: directory + "/figures", withIntermediateDirectories: true)
        for (name, svg) in ReproduceReport.figures(summary) {
            try svg.write(toFile: directory + "/figures/" + name, atomically: true, encoding: .utf8)
        }
        try ReproduceReport.html(summary, claims: ReproduceClaims.evaluate(summary)).write(toFile: directory + "/report.html", atomically: true, encoding: .utf8)
        try ReproduceReport.markdown(summary, claims: ReproduceClaims.evaluate(summary)).write(toFile: directory + "/report.md", atomically: true, encoding: .utf8)
    }
}

/// Writes the synthetic report and checks what was written: every figure and
/// report.html parse, report.md links every figure. The files go to
/// `$DISSECT_REPRODUCE_REPORT/synthetic` when that variable names a directory,
/// so a person can look at them, and to a temporary directory otherwise.
/// (A real run's report is written by `dissect reproduce` itself.)
@Suite struct ReproduceSyntheticTests {
    @Test func writeReportAndCheckIt() throws {
        let requested = ProcessInfo.processInfo.environment["DISSECT_REPRODUCE_REPORT"]
        let root = requested ?? NSTemporaryDirectory() + "dissect-reproduce-report-\(UUID().uuidString)"
        defer { if requested == nil { try? FileManager.default.removeItem(atPath: root) } }
        let directory = root + "/synthetic"
        let summary = ReproduceSynthetic.summary()
        try ReproduceSynthetic.write(summary, to: directory)
        let figures = ReproduceReport.figures(summary)
        #expect(figures.count >= 14)
        let written = Set(try FileManager.default.contentsOfDirectory(atPath: directory + "/figures"))
        #expect(written.isSuperset(of: figures.map(\.name)), "\(written.sorted())")
        for (name, _) in figures {
            let check = XMLCheck.parse(try String(contentsOfFile: directory + "/figures/" + name, encoding: .utf8))
            #expect(check.isValid, "\(name): \(check.errorDescription ?? "")")
        }
        let html = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
        #expect(html == ReproduceReport.html(summary, claims: ReproduceClaims.evaluate(summary)))
        let page = XMLCheck.parse(ReproduceReportTests.xml(html))
        #expect(page.isValid, "report.html: \(page.errorDescription ?? "")")
        let markdown = try String(contentsOfFile: directory + "/report.md", encoding: .utf8)
        for (name, _) in figures {
            #expect(markdown.contains("](figures/\(name))"), "report.md links \(name)")
            #expect(FileManager.default.fileExists(atPath: directory + "/figures/" + name))
        }
    }

    @Test func syntheticSummaryRoundTripsThroughJSON() throws {
        let summary = ReproduceSynthetic.summary()
        let data = try JSONEncoder().encode(summary)
        let decoded = try JSONDecoder().decode(ReproduceSummary.self, from: data)
        #expect(decoded.seeds.count == 4)
        #expect(decoded.ablations.count == 16)
        #expect(ReproduceReport.html(decoded, claims: ReproduceClaims.evaluate(decoded)) == ReproduceReport.html(summary, claims: ReproduceClaims.evaluate(summary)))
    }
}
