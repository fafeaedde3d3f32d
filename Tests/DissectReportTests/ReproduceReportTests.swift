import DissectCore
import Foundation
import Testing
@testable import DissectAnalysis
@testable import DissectReport
@testable import DissectStudy

@Suite struct ReproduceReportTests {
    typealias S = ReproduceSynthetic

    /// The page without its doctype line, as XMLParser wants it.
    static func xml(_ html: String) -> String {
        html.hasPrefix("<!DOCTYPE html>\n") ? String(html.dropFirst("<!DOCTYPE html>\n".count)) : html
    }

    /// The page with the verdicts DissectStudy gives the summary.
    static func html(_ summary: ReproduceSummary) -> String {
        ReproduceReport.html(summary, claims: ReproduceClaims.evaluate(summary))
    }

    // MARK: Well-formedness

    @Test func pageIsWellFormedXHTML() throws {
        let html = Self.html(S.summary())
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html"))
        let check = XMLCheck.parse(Self.xml(html))
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        // Figures inline: 8 sensitivity/ranking panels, 8 ablation charts, 2 × 5 correlation maps, CKA, matches, ranker drops.
        #expect((check.elementCounts["svg"] ?? 0) >= 29)
        #expect(check.elementCounts["script"] == nil)
        #expect(check.elementCounts["section"] == 9)
        // No network references: the only URLs are the XHTML and SVG namespace names.
        let withoutNamespaces = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/1999/xhtml\"", with: "")
            .replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespaces.contains("http:") && !withoutNamespaces.contains("https:") && !withoutNamespaces.contains("//"))
        #expect(!html.contains("<?xml"))
        // Every section is linked from the table of contents.
        for id in ["claims", "f1", "sensitivity", "sure", "ablation", "correlation", "seeds", "rankers", "run"] {
            #expect(html.contains("href=\"#\(id)\""))
            #expect(html.contains("<section id=\"\(id)\">"))
        }
    }

    @Test func pageWithoutPaperOrAblationsIsWellFormed() {
        var summary = S.summary(seeds: [7], withPaper: false)
        summary.ablations = []
        let html = Self.html(summary)
        let check = XMLCheck.parse(Self.xml(html))
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(html.contains("no paper figures"))
    }

    @Test func textIsEscaped() {
        var summary = S.summary(seeds: [1])
        summary.run.command = "dissect reproduce --out 'a<b>&c' \"quoted\""
        summary.references[0].provenance = "<script>alert(1)</script> & more"
        let html = Self.html(summary)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(XMLCheck.parse(Self.xml(html)).isValid)
    }

    @Test func everyFigureParsesAndIsNamed() {
        let figures = ReproduceReport.figures(S.summary())
        let names = figures.map(\.name)
        for expected in [
            "figure2-ours.svg", "figure2-paper.svg", "figure3-ours.svg", "figure3-paper.svg",
            "figure7-ours.svg", "figure7-paper.svg", "figure8-ours.svg", "figure8-paper.svg",
            "figure4-readout.svg", "figure4-recurrent.svg", "figure5-readout.svg", "figure5-recurrent.svg",
            "figure6-dev.svg", "figure6-test.svg",
        ] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        #expect(Set(names).count == names.count)
        for (name, svg) in figures {
            let check = XMLCheck.parse(svg)
            #expect(check.isValid, "\(name): \(check.errorDescription ?? "")")
            #expect(check.rootAttributes["viewBox"] != nil, "\(name)")
        }
        // Figure 8 is the full 50 × 9 rankings; Figure 3 its top ten rows.
        let figure8 = XMLCheck.parse(figures.first { $0.name == "figure8-ours.svg" }!.svg)
        #expect(figure8.count("rect", class: "cell") == 450)
        let figure3 = XMLCheck.parse(figures.first { $0.name == "figure3-paper.svg" }!.svg)
        #expect(figure3.count("rect", class: "cell") == 90)
        let figure2 = XMLCheck.parse(figures.first { $0.name == "figure2-paper.svg" }!.svg)
        #expect(figure2.count("rect", class: "cell") == 90)
        // Figure 6: four seeds and the paper's matrix.
        let figure6 = XMLCheck.parse(figures.first { $0.name == "figure6-dev.svg" }!.svg)
        #expect(figure6.count("rect", class: "cell") == 5 * 81)
    }

    @Test func figure2And7ShareOneScale() {
        let summary = S.summary()
        let figures = ReproduceReport.figures(summary)
        let scale = ReproduceFigures.sensitivityScale(summary)
        let label = "+" + DecimalText.fixed(scale, decimals: 2)
        for name in ["figure2-ours.svg", "figure2-paper.svg", "figure7-ours.svg", "figure7-paper.svg", "figure8-paper.svg"] {
            let texts = XMLCheck.parse(figures.first { $0.name == name }!.svg).texts
            #expect(texts.contains(label), "\(name) has no legend label \(label)")
        }
    }

    @Test func paperFigure2UsesItsOwnRows() {
        let figures = ReproduceReport.figures(S.summary())
        let texts = XMLCheck.parse(figures.first { $0.name == "figure2-paper.svg" }!.svg).texts
        for neuron in [7, 10, 13, 17, 19, 24, 27, 34, 37, 48] { #expect(texts.contains(String(neuron))) }
    }

    @Test func markdownHasTheF1TableAndFigureLinks() {
        let summary = S.summary()
        let markdown = ReproduceReport.markdown(summary, claims: ReproduceClaims.evaluate(summary))
        #expect(markdown.contains("| Model"))
        #expect(markdown.contains("dev F1 (NCRF++)"))
        #expect(markdown.contains("test F1 (conlleval)"))
        #expect(markdown.contains("86.4 †"))
        #expect(markdown.contains("seed 3"))
        #expect(markdown.contains("mean ± sd over 4 seeds"))
        #expect(markdown.contains("NCRF++ (LSTM, no CRF) on this machine"))
        #expect(markdown.contains("87.31"))
        for (name, _) in ReproduceReport.figures(summary) { #expect(markdown.contains("](figures/\(name))"), "\(name) not linked") }
        #expect(markdown.contains("| Claim"))
    }

    @Test func f1MeanAndSDAreRight() {
        // 86.9, 87.2, 87.5, 87.8: mean 87.35, sd 0.387.
        let table = ReproduceTables.f1(S.summary())
        let mean = table.rows.first { $0[0].hasPrefix("mean") }!
        #expect(mean[1] == "87.35 ± 0.39")
        #expect(table.rows[0][1] == "86.4 †")
        #expect(table.rows.last![7].hasPrefix("NCRF++ commit"))
    }

    @Test func overviewCountsVerdicts() {
        let summary = S.summary()
        let claims = ReproduceClaims.evaluate(summary)
        let text = ReproduceReport.overview(summary, claims: claims)
        #expect(text.contains("Of the \(claims.count) claims checked"))
        #expect(claims.count == 12)
    }
}
