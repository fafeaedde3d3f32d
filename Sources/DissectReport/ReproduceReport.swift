import DissectAnalysis
import DissectStudy
import Foundation

/// The report of `dissect reproduce`: one self-contained page (`report.html`:
/// inline SVG and CSS, no scripts, no network), the same tables as Markdown
/// (`report.md`), every figure as its own SVG file, and the paper's claims with
/// the verdicts DissectStudy gave them (`ReproduceClaims.evaluate`).
///
///     let claims = ReproduceClaims.evaluate(summary)
///     for (name, svg) in ReproduceReport.figures(summary) { try AtomicFile.write(svg, to: folder + "/" + name) }
///     try AtomicFile.write(ReproduceReport.html(summary, claims: claims), to: folder + "/report.html")
///     try AtomicFile.write(ReproduceReport.markdown(summary, claims: claims), to: folder + "/report.md")
///
/// The page is also well-formed XML (XHTML-compatible markup), so tests parse it.
public enum ReproduceReport {
    typealias N = ReproduceNumbers

    static let paperTitle = "Reproducing Xin, Lin & Yu (EMNLP 2019): measuring and dissecting LSTM neurons"

    static func isStudy(_ summary: ReproduceSummary) -> Bool { summary.task?.kind == .study }

    /// The folder of the training file: what `dissect study --data-dir` was given.
    static func dataName(_ summary: ReproduceSummary) -> String {
        let directory = (summary.run.trainFile as NSString).deletingLastPathComponent
        return directory.isEmpty ? summary.run.trainFile : directory
    }

    /// The label set as the report describes it: "9 labels, BIO with the entity types …" or "17 labels, not BIO".
    static func labelDescription(_ summary: ReproduceSummary) -> String {
        let labels = summary.sensitivityDev.first?.labels ?? summary.correlationDev.labels
        return "\(labels.count) label\(labels.count == 1 ? "" : "s"), " + LabelScheme.detect(labels).description
    }

    /// reproduce: the paper; study: the data directory and the label set.
    static func title(_ summary: ReproduceSummary) -> String {
        guard isStudy(summary) else { return paperTitle }
        return "dissect study of \(dataName(summary)) (\(labelDescription(summary))): measuring and dissecting LSTM neurons"
    }

    /// Every figure as its own SVG document, named for the paper's figure it
    /// reproduces: `figure2-ours.svg`, `figure2-paper.svg`, `figure3-…`,
    /// `figure7-…`, `figure8-…` (first seed, dev), `figure4-readout.svg`,
    /// `figure4-recurrent.svg`, `figure5-…` (first seed's ablation), `figure6-dev.svg`, `figure6-test.svg`.
    public static func figures(_ summary: ReproduceSummary) -> [(name: String, svg: String)] {
        ReproduceFigures.all(summary).map { ($0.name, $0.svg) }
    }

    /// One paragraph: what was run, the F1, and how many claims hold.
    static func overview(_ summary: ReproduceSummary, claims: [Claim]) -> String {
        let seeds = summary.seeds.map { String($0.seed) }.joined(separator: ", ")
        let taggers = "\(summary.seeds.count) tagger\(summary.seeds.count == 1 ? "" : "s") "
            + "(one-layer unidirectional LSTM, 50 neurons, linear output) trained by dissect" + (seeds.isEmpty ? "" : " with seeds \(seeds)")
        var text: String
        if isStudy(summary) {
            let labels = summary.sensitivityDev.first?.labels ?? summary.correlationDev.labels
            let scheme = LabelScheme.detect(labels)
            text = "This report runs the analyses of Xin, Lin & Yu (EMNLP 2019) on the corpus in \(dataName(summary)) with " + taggers + ". "
            text += "Its label set has \(labelDescription(summary))"
            text += scheme.isBIO ? "; the paper's claims about B-x, I-x and O are generalised to these types. "
                : ", so the claims about B-x, I-x and O cannot apply and say why. "
            if let task = summary.task, !task.pairs.isEmpty {
                text += "Ablated labels: " + task.pairs.map { "(" + $0.joined(separator: ", ") + ")" }.joined(separator: " and ")
                    + ", chosen by this rule: " + task.pairRule + ". "
            }
        } else {
            text = "This report checks the paper's claims against " + taggers + ". "
        }
        let dev = summary.seeds.compactMap { N.percent($0.record.devF1NCRF) }
        let test = summary.seeds.compactMap { N.percent($0.record.testF1NCRF) }
        if let devMean = N.mean(dev) {
            text += "Mean F1 by NCRF++'s scorer is \(N.fixed(devMean, 1)) on dev"
            if let testMean = N.mean(test) { text += " and \(N.fixed(testMean, 1)) on test" }
            text += isStudy(summary) ? ". " : " against the paper's \(N.fixed(summary.paper?.reportedF1 ?? N.paperF1, 1)). "
        }
        // Robustness rows are not claims of the paper: they are shown, not counted.
        let paperClaims = claims.filter { !$0.robustness }
        func count(_ verdict: Verdict) -> Int { paperClaims.filter { $0.verdict == verdict }.count }
        text += "Of the \(paperClaims.count) claims checked, each by a rule fixed before the data, \(count(.holds)) hold, \(count(.partly)) hold partly, "
            + "\(count(.fails)) fail and \(count(.untested)) could not be tested."
        let failing = paperClaims.filter { $0.verdict == .fails }.map(\.claim)
        if !failing.isEmpty { text += " Failing: " + failing.joined(separator: "; ") + "." }
        let partly = paperClaims.filter { $0.verdict == .partly }.map { String($0.claim.prefix(3)) }
        if !partly.isEmpty { text += " Partly: " + partly.joined(separator: ", ") + "." }
        let robustness = claims.filter(\.robustness)
        if !robustness.isEmpty {
            text += " Robustness rows (claim (b) with mean or resample ablation): "
                + "\(robustness.filter { $0.verdict == .holds }.count) of \(robustness.count) hold."
        }
        return text
    }

    struct Section {
        var id: String
        var title: String
    }

    /// The page's sections in order; "Control task" only when the summary has control models.
    static func sections(_ summary: ReproduceSummary) -> [Section] {
        var sections = [
            Section(id: "claims", title: "Claims and verdicts"),
            Section(id: "f1", title: "F1: the trained taggers"),
            Section(id: "sensitivity", title: "Sensitivity and rankings (Figures 2, 7, 3, 8)"),
            Section(id: "sure", title: "How sure: intervals and findings"),
            Section(id: "ablation", title: "Ablation (Figures 4 and 5)"),
            Section(id: "correlation", title: "Label correlation across models (Figure 6)"),
            Section(id: "seeds", title: "Do neurons recur across seeds? CKA, SVCCA and neuron matching"),
            Section(id: "rankers", title: "Does the ranking method matter? Rival rankings scored by ablation"),
        ]
        if summary.sizes != nil { sections.append(Section(id: "sizes", title: "Hidden size selection: pruning against training from scratch")) }
        if summary.controls != nil { sections.append(Section(id: "control", title: "Control task (Hewitt & Liang 2019)")) }
        sections.append(Section(id: "run", title: "How the run was made"))
        return sections
    }

    /// The paragraph that opens "Hidden size selection".
    static func sizesIntroduction(_ sizes: SizesDocument) -> String {
        "The first seed's model (\(sizes.fullHidden) units, test F1 \(N.fixed(sizes.fullTestF1, 2))) cut to each smaller size by keeping its most "
            + "sensitive units, random ones or the least sensitive, with and without \(sizes.fineTuneEpochs) epoch\(sizes.fineTuneEpochs == 1 ? "" : "s") "
            + "of fine-tuning, beside that size trained from scratch (\(sizes.scratchEpochs) epochs); every file of the study is in sizes/."
    }

    /// The paragraph that opens "How sure", and whether there are numbers under it.
    static func confidenceIntroduction(_ summary: ReproduceSummary) -> (text: String, rows: [N.Confidence]) {
        let rows = N.confidence(summary)
        guard !rows.isEmpty else {
            return ("The summary has no bootstrap or permutation statistics for the sensitivity matrices "
                + "(they come with --bootstrap N and --permutations N).", rows)
        }
        return ("How much of each seed's dev sensitivity would survive another sample of sentences: the share of neuron–label cells "
            + "that are findings (significant and larger than the margin, by the rule under the table) and how stable each label's top 10 neurons are "
            + "under a sentence-level bootstrap.", rows)
    }

    /// The sentence that opens "Do neurons recur across seeds?", computed from the comparison.
    static func seedsText(_ summary: ReproduceSummary) -> (text: String, similarity: N.SeedSimilarity?) {
        guard let comparison = summary.seedComparison else {
            return ("The summary has no comparison across seeds" + (summary.seeds.count < 2 ? " (it needs two or more seeds)." : "."), nil)
        }
        let similarity = N.seedSimilarity(comparison)
        return (N.seedsFinding(similarity), similarity)
    }

    /// The sentence that opens "Does the ranking method matter?", computed from the first seed's rival rankings.
    static func rankersText(_ summary: ReproduceSummary) -> String {
        guard let rankings = summary.rankings else { return "The summary has no rival rankings." }
        return N.rankersFinding(rankings, seed: ReproduceFigures.firstSeedName(summary))
    }

    static let rankersIntroduction = "Each ranking is computed on dev and scored the same way on test: the label's top k neurons by that ranking are "
        + "zero-ablated where they enter the output layer (readout mode), and the label's accuracy lost is read at k = 10 and averaged over k = 1 … K (the area). "
        + "Probeless ranking follows NeuroX (Antverg & Belinkov 2022), the probe Dalvi et al. (2019), single-neuron ablation is the intervention itself, one neuron at a time."

    static func controlIntroduction() -> String {
        "Each seed also trained a control model on the control task (every word type gets one fixed random label drawn from the training "
            + "label distribution). Its sensitivity on dev is measured as the real models' is, and its ranked curves with zero ablation (no random or reverse orders: only the ranked drop is compared); selectivity is real minus control, "
            + "so structure that a model with nothing to learn shows as well scores near 0."
    }

    // MARK: HTML

    /// `report.html`: one self-contained page.
    public static func html(_ summary: ReproduceSummary, claims: [Claim]) -> String {
        let figures = ReproduceFigures.all(summary)
        func figure(_ name: String) -> ReproduceFigure? { figures.first { $0.name == name } }
        typealias H = ReproduceHTML
        let sections = sections(summary)
        func section(_ id: String) -> Section { sections.first { $0.id == id } ?? Section(id: id, title: id) }
        let title = title(summary)

        var page = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
        page += "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        page += "<title>\(H.escape(title))</title>\n<style>\n\(H.css)</style>\n</head>\n<body>\n<main>\n"
        page += "<h1>\(H.escape(title))</h1>\n"
        page += "<p class=\"byline\">dissect \(H.escape(summary.run.dissectVersion)) · \(H.escape(summary.run.date)) · "
        page += (isStudy(summary) ? "method: " : "paper: ") + "Ji Xin, Jimmy Lin and Yaoliang Yu, “What Part of the Neural Network Does This? Understanding LSTMs by Measuring and Dissecting Neurons”, EMNLP-IJCNLP 2019, pp. 5823–5830</p>\n"
        page += "<p class=\"summary\">\(H.escape(overview(summary, claims: claims)))</p>\n"
        page += "<nav><h2>Contents</h2><ol>\n"
        for section in sections { page += "<li><a href=\"#\(section.id)\">\(H.escape(section.title))</a></li>\n" }
        page += "</ol></nav>\n"

        // Claims
        page += H.sectionStart(section("claims"))
        page += "<p>Each claim of the paper, the rule that judges it (its thresholds fixed before the data, in one place in the code), "
        page += "the numbers this run measured for it, and a verdict: <em>holds</em>, <em>partly</em> (mixed evidence), "
        page += "<em>fails</em>, or <em>untested</em> (the data is missing or the claim cannot apply). The sections below show the figures and full tables.</p>\n"
        page += ReproduceTables.claims(claims).html
        page += "</section>\n"

        // F1
        page += H.sectionStart(section("f1"))
        page += ReproduceTables.f1(summary).html
        page += "</section>\n"

        // Sensitivity
        page += H.sectionStart(section("sensitivity"))
        let seed = ReproduceFigures.firstSeedName(summary)
        let scale = ReproduceFigures.sensitivityScale(summary)
        if summary.paper != nil {
            page += "<p>Sensitivity s[i, j] of neuron i to label j (the paper's Eq. 5) on the dev set, for \(H.escape(seed)), beside the paper's own numbers. "
            page += "Red is positive, blue negative, deeper for larger |s|; ours and the paper's share one scale (±\(H.escape(N.fixed(scale)))) so their colours compare directly.</p>\n"
        } else {
            page += "<p>Sensitivity s[i, j] of neuron i to label j (the paper's Eq. 5) on the dev set, for \(H.escape(seed)). "
            page += "Red is positive, blue negative, deeper for larger |s| (scale ±\(H.escape(N.fixed(scale)))).</p>\n"
            if !isStudy(summary) { page += "<p class=\"note\">The summary has no paper figures, so only ours are shown.</p>\n" }
        }
        page += "<h3>Figure 2: the ten most sensitive neurons</h3>\n"
        page += "<p>Ours are the ten neurons with the largest sensitivity to any label (in neuron order)"
        if summary.paper != nil {
            page += "; the paper's are the ten rows of its Figure 2 (neurons 7, 10, 13, 17, 19, 24, 27, 34, 37, 48), which it chose as examples, not by size"
        }
        page += ".</p>\n"
        page += H.figureRow([figure("figure2-ours.svg"), figure("figure2-paper.svg")])
        page += "<h3>Figure 7: every neuron</h3>\n"
        page += H.figureRow([figure("figure7-ours.svg"), figure("figure7-paper.svg")])
        page += "<h3>Figure 3: top ten neurons per label</h3>\n"
        page += "<p>Neurons ranked by their sensitivity to each label, most sensitive first; each cell is coloured by the neuron's sensitivity to that label.</p>\n"
        page += H.figureRow([figure("figure3-ours.svg"), figure("figure3-paper.svg")])
        page += "<h3>Figure 8: full importance rankings</h3>\n"
        page += H.figureRow([figure("figure8-ours.svg"), figure("figure8-paper.svg")])
        page += "</section>\n"

        // How sure
        page += H.sectionStart(section("sure"))
        let confidence = confidenceIntroduction(summary)
        page += "<p\(confidence.rows.isEmpty ? " class=\"note\"" : "")>\(H.escape(confidence.text))</p>\n"
        if !confidence.rows.isEmpty {
            page += ReproduceTables.confidence(confidence.rows, labels: summary.sensitivityDev.first?.labels ?? []).html
        }
        page += "</section>\n"

        // Ablation
        page += H.sectionStart(section("ablation"))
        page += "<p>Neurons are ranked on dev and ablated (h<sub>i</sub> set to 0) on test, k = 0 … K at a time, following one label's ranking. "
        page += "<em>Readout</em> mode zeroes h<sub>i</sub> only where it enters the output layer (the paper's Eq. 1 reading); <em>recurrent</em> mode also zeroes it in the state carried to the next word. "
        page += "Each chart shows the accuracy lost by the ranked label (thick), the other label of the pair, all other labels (\"others\"), all tokens, "
        page += "the ranking read backwards (dashed), and the ranked label under random orders (mean dashed grey, 5th–95th percentile band)"
        page += summary.ablations.contains { $0.document.curves.values.contains { $0.band != nil } }
            ? ", with a bootstrap band over the test sentences around the ranked curve. " : ". "
        page += "All charts share one y axis."
        if !isStudy(summary) { page += " The paper's own curves exist only as images (its y axes run from 0 to −0.6 or −0.8)." }
        if summary.ablations.contains(where: { ($0.document.value ?? .zero) != .zero }) {
            page += " The figures show zero-value ablation; the tables add the robustness runs, where h<sub>i</sub> is set to its mean over dev "
            page += "or to its value at a random dev token instead of 0."
        }
        page += "</p>\n"
        let ablationFigures = figures.filter { $0.name.hasPrefix("figure4") || $0.name.hasPrefix("figure5") || $0.name.hasPrefix("figure-ablation") }
        if ablationFigures.isEmpty { page += "<p class=\"note\">The summary has no ablation studies for the first seed.</p>\n" }
        for item in ablationFigures {
            page += "<h3>\(H.escape(item.title))</h3>\n"
            page += H.panelRow(item)
        }
        let allRows = N.ablationRows(summary)
        let firstSeed = summary.seeds.first?.seed ?? summary.ablations.first?.seed
        let firstRows = allRows.filter { $0.seed == firstSeed }
        if !firstRows.isEmpty {
            page += "<h3>Accuracy lost (points) at k = \(N.ablationK) and at the last step, \(H.escape(seed))</h3>\n"
            page += ReproduceTables.ablation(firstRows, seedColumn: false).html
        }
        if allRows.count > firstRows.count {
            page += "<details><summary>Every seed (\(Set(allRows.map(\.seed)).count) seeds, \(allRows.count) rankings)</summary>\n"
            page += ReproduceTables.ablation(allRows).html
            page += "</details>\n"
        }
        page += "</section>\n"

        // Correlation
        page += H.sectionStart(section("correlation"))
        let shape = summary.sensitivityDev.first.map { "\($0.neurons) × \($0.labels.count) " } ?? ""
        page += "<p>For each model, Pearson's r between every two label columns of its \(shape)sensitivity matrix, across neurons"
        page += summary.correlationDev.reference != nil ? "; the last map is the same computed from the paper's Figure 7.</p>\n" : ".</p>\n"
        for set in ["dev", "test"] {
            if let item = figure("figure6-\(set).svg") {
                page += "<h3>\(H.escape(item.title))</h3>\n"
                page += H.panelRow(item)
            }
        }
        page += "<h3>\(isStudy(summary) ? "The patterns (d)–(g) on this label set" : "The paper's patterns"), entry by entry, with intervals (dev)</h3>\n"
        page += ReproduceTables.patterns(summary.correlationDev).html
        page += "<h3>How alike the matrices are</h3>\n"
        page += ReproduceTables.similarity(summary).html
        for document in [summary.correlationDev, summary.correlationTest] where !document.agreement.isEmpty {
            page += "<h3>Do rankings agree between dev and test?</h3>\n"
            page += ReproduceTables.agreement(document.agreement, labels: document.labels).html
            break
        }
        page += "</section>\n"

        // Seeds
        page += H.sectionStart(section("seeds"))
        let seeds = seedsText(summary)
        page += "<p class=\"\(seeds.similarity == nil ? "note" : "finding")\">\(H.escape(seeds.text))</p>\n"
        if let similarity = seeds.similarity {
            page += H.figureRow([figure("seeds-cka.svg"), figure("seeds-matches.svg")])
            page += "<h3>Each pair of seeds</h3>\n" + ReproduceTables.seedPairs(similarity).html
            page += "<h3>Label–neuron recurrence</h3>\n" + ReproduceTables.recurrence(similarity).html
        }
        page += "</section>\n"

        // Rankers
        page += H.sectionStart(section("rankers"))
        page += "<p class=\"\(summary.rankings == nil ? "note" : "finding")\">\(H.escape(rankersText(summary)))</p>\n"
        if let rankings = summary.rankings {
            page += "<p>\(H.escape(rankersIntroduction))</p>\n"
            page += ReproduceTables.rankers(rankings).html
            page += H.figureRow([figure("rankers-drops.svg")])
            page += "<details><summary>Drop at k = \(rankings.dropK) per label and method</summary>\n" + ReproduceTables.rankerDrops(rankings).html + "</details>\n"
        }
        page += "</section>\n"

        // Hidden size selection
        if let sizes = summary.sizes {
            page += H.sectionStart(section("sizes"))
            page += "<p>\(H.escape(sizesIntroduction(sizes)))</p>\n"
            page += "<h3>The smallest size within \(N.fixed(sizes.tolerance, 0)) F1 point of the full model</h3>\n" + SizesArtifacts.smallestTable(sizes).html
            page += H.figureRow([figure("sizes.svg")])
            page += "<details><summary>Test F1 by size</summary>\n" + SizesArtifacts.bySizeTable(sizes).html + "</details>\n"
            page += "</section>\n"
        }

        // Control task
        if let rows = N.controlComparison(summary) {
            page += H.sectionStart(section("control"))
            page += "<p>\(H.escape(controlIntroduction()))</p>\n"
            page += ReproduceTables.controls(rows).html
            page += "</section>\n"
        }

        // Run
        page += H.sectionStart(section("run"))
        page += ReproduceTables.run(summary).html
        page += "<h3>Timings</h3>\n"
        page += ReproduceTables.timings(summary.run).html
        page += "<p class=\"note\">Figure files in figures/ beside this page: " + figures.map { H.escape($0.name) }.joined(separator: ", ") + ".</p>\n"
        page += "</section>\n"

        page += "</main>\n</body>\n</html>\n"
        return page
    }

    // MARK: Markdown

    /// `report.md`: the same tables, figures linked as their SVG files.
    public static func markdown(_ summary: ReproduceSummary, claims: [Claim]) -> String {
        let figures = ReproduceFigures.all(summary)
        func image(_ names: [String]) -> String {
            names.compactMap { name in figures.first { $0.name == name } }
                .map { "![\(MarkdownReport.escape($0.title))](figures/\($0.name))" }.joined(separator: "\n") + "\n"
        }
        let sections = sections(summary)
        func heading(_ id: String) -> String {
            "\n<a id=\"\(id)\"></a>\n## \(sections.first { $0.id == id }?.title ?? id)\n\n"
        }
        var text = "# \(title(summary))\n\n"
        text += overview(summary, claims: claims) + "\n\n"
        for (index, section) in sections.enumerated() { text += "\(index + 1). [\(section.title)](#\(section.id))\n" }
        text += heading("claims") + ReproduceTables.claims(claims).markdown
        text += heading("f1") + ReproduceTables.f1(summary).markdown
        text += heading("sensitivity")
        text += "Sensitivity on dev, \(ReproduceFigures.firstSeedName(summary))" + (summary.paper != nil ? ", beside the paper's; one colour scale" : "; colour scale")
            + " (±\(N.fixed(ReproduceFigures.sensitivityScale(summary)))).\n\n"
        text += "### Figure 2\n\n" + image(["figure2-ours.svg", "figure2-paper.svg"])
        text += "\n### Figure 7\n\n" + image(["figure7-ours.svg", "figure7-paper.svg"])
        text += "\n### Figure 3\n\n" + image(["figure3-ours.svg", "figure3-paper.svg"])
        text += "\n### Figure 8\n\n" + image(["figure8-ours.svg", "figure8-paper.svg"])
        text += heading("sure")
        let confidence = confidenceIntroduction(summary)
        text += confidence.text + "\n\n"
        if !confidence.rows.isEmpty {
            text += ReproduceTables.confidence(confidence.rows, labels: summary.sensitivityDev.first?.labels ?? []).markdown
        }
        text += heading("ablation")
        for item in figures where item.name.hasPrefix("figure4") || item.name.hasPrefix("figure5") || item.name.hasPrefix("figure-ablation") {
            text += "### \(item.title)\n\n" + image([item.name]) + "\n"
        }
        let rows = N.ablationRows(summary)
        if !rows.isEmpty { text += "### Accuracy lost (points) at k = \(N.ablationK) and at the last step, every seed\n\n" + ReproduceTables.ablation(rows).markdown }
        text += heading("correlation")
        text += image(["figure6-dev.svg", "figure6-test.svg"])
        text += "\n### \(isStudy(summary) ? "The patterns (d)–(g) on this label set" : "The paper's patterns"), entry by entry, with intervals (dev)\n\n"
            + ReproduceTables.patterns(summary.correlationDev).markdown
        text += "\n### How alike the matrices are\n\n" + ReproduceTables.similarity(summary).markdown
        for document in [summary.correlationDev, summary.correlationTest] where !document.agreement.isEmpty {
            text += "\n### Do rankings agree between dev and test?\n\n" + ReproduceTables.agreement(document.agreement, labels: document.labels).markdown
            break
        }
        text += heading("seeds")
        let seeds = seedsText(summary)
        text += seeds.text + "\n\n"
        if let similarity = seeds.similarity {
            text += image(["seeds-cka.svg", "seeds-matches.svg"])
            text += "\n### Each pair of seeds\n\n" + ReproduceTables.seedPairs(similarity).markdown
            text += "\n### Label–neuron recurrence\n\n" + ReproduceTables.recurrence(similarity).markdown
        }
        text += heading("rankers") + rankersText(summary) + "\n\n"
        if let rankings = summary.rankings {
            text += rankersIntroduction + "\n\n" + ReproduceTables.rankers(rankings).markdown + "\n" + image(["rankers-drops.svg"])
            text += "\n### Drop at k = \(rankings.dropK) per label and method\n\n" + ReproduceTables.rankerDrops(rankings).markdown
        }
        if let sizes = summary.sizes {
            text += heading("sizes") + sizesIntroduction(sizes) + "\n\n"
            text += "### The smallest size within \(N.fixed(sizes.tolerance, 0)) F1 point of the full model\n\n" + SizesArtifacts.smallestTable(sizes).markdown
            text += "\n" + image(["sizes.svg"]) + "\n### Test F1 by size\n\n" + SizesArtifacts.bySizeTable(sizes).markdown
        }
        if let rows = N.controlComparison(summary) {
            text += heading("control") + controlIntroduction() + "\n\n" + ReproduceTables.controls(rows).markdown
        }
        text += heading("run") + ReproduceTables.run(summary).markdown
        text += "\n### Timings\n\n" + ReproduceTables.timings(summary.run).markdown
        return text
    }
}

/// Markup helpers for the page: XHTML-compatible (every element closed, text escaped).
enum ReproduceHTML {
    static func escape(_ text: String) -> String { SVGText.escape(text) }

    static func badge(_ verdict: Verdict) -> String {
        "<span class=\"verdict v-\(verdict.rawValue)\">\(verdict.rawValue)</span>"
    }

    static func sectionStart(_ section: ReproduceReport.Section) -> String {
        "<section id=\"\(section.id)\">\n<h2>\(escape(section.title))</h2>\n"
    }

    /// Single-panel figures side by side (ours beside the paper's), wrapping on narrow screens.
    static func figureRow(_ figures: [ReproduceFigure?]) -> String {
        let present = figures.compactMap { $0 }
        guard !present.isEmpty else { return "<p class=\"note\">Not in the summary.</p>\n" }
        var text = "<div class=\"figure-row\">\n"
        for figure in present {
            text += "<figure>\n" + figure.inlinePanels.joined()
            text += "<figcaption>File: \(escape(figure.name))</figcaption>\n</figure>\n"
        }
        return text + "</div>\n"
    }

    /// The panels of one figure in a grid.
    static func panelRow(_ figure: ReproduceFigure) -> String {
        var text = "<div class=\"figure-row panels\">\n"
        for (panel, title) in zip(figure.inlinePanels, figure.panelTitles) {
            _ = title
            text += "<figure>\n" + panel + "</figure>\n"
        }
        text += "</div>\n<p class=\"file\">File: \(escape(figure.name))</p>\n"
        return text
    }

    static let css = """
    body { margin: 0; background: #ffffff; color: #222222; font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; }
    main { max-width: 1180px; margin: 0 auto; padding: 16px 20px 64px; }
    h1 { font-size: 1.55em; line-height: 1.25; margin: 0.6em 0 0.2em; }
    h2 { font-size: 1.3em; margin: 1.8em 0 0.5em; padding-top: 0.4em; border-top: 2px solid #e4e4e4; }
    h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
    p { max-width: 72em; }
    .byline { color: #666666; font-size: 0.85em; margin-top: 0; }
    .summary { font-size: 1.02em; background: #f6f8fa; border-left: 4px solid #5b7fa6; padding: 10px 14px; }
    nav ol { margin: 0.2em 0; padding-left: 1.6em; }
    nav h2 { border: none; margin: 1em 0 0.2em; padding: 0; font-size: 1.1em; }
    .table-wrap { overflow-x: auto; max-width: 100%; margin: 0.4em 0 0.6em; }
    table { border-collapse: collapse; font-size: 13px; }
    th, td { border-bottom: 1px solid #dddddd; padding: 4px 8px; text-align: left; vertical-align: top; }
    th { background: #f3f3f3; font-weight: 600; }
    th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    th.num { white-space: normal; min-width: 4.5em; }
    table.f1 td:first-child { min-width: 9em; }
    table.compact td { white-space: nowrap; }
    table.keys td:first-child { white-space: nowrap; min-width: 0; font-weight: 600; }
    code { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 0.92em; overflow-wrap: anywhere; }
    tr.paper td { background: #fbf7ea; }
    tr.mean td { font-weight: 600; background: #f6f8fa; }
    tr.reference td { background: #f1f6fb; }
    tr.robustness td { background: #f7f4fb; }
    #claims td:first-child { min-width: 14em; max-width: 24em; }
    #claims td:nth-child(2) { font-size: 12px; color: #444444; min-width: 16em; max-width: 24em; }
    #claims td:nth-child(3) { font-size: 12.5px; min-width: 20em; }
    .verdict { display: inline-block; padding: 1px 9px; border-radius: 10px; font-weight: 600; font-size: 12px; white-space: nowrap; }
    .v-holds { background: #d8efd3; color: #1d5e20; }
    .v-partly { background: #fdecc8; color: #7a4b00; }
    .v-fails { background: #f9d3d3; color: #8a1111; }
    .v-untested { background: #e6e6e6; color: #555555; }
    .figure-row { display: flex; flex-wrap: wrap; gap: 12px 28px; align-items: flex-start; }
    .figure-row figure { margin: 0; flex: 0 1 auto; min-width: 0; max-width: 100%; }
    .figure-row svg { display: block; max-width: 100%; height: auto; }
    figcaption, .file { color: #777777; font-size: 12px; margin: 2px 0 0; }
    .note { color: #555555; font-size: 0.9em; }
    .finding { background: #f6f8fa; border-left: 4px solid #5b9a68; padding: 8px 12px; }
    details { margin: 0.6em 0; }
    summary { cursor: pointer; color: #2a5a8a; }
    @media (max-width: 860px) { main { padding: 10px 12px 48px; } body { font-size: 14px; } }

    """
}
