import Testing
@testable import DissectReport
import DissectAnalysis

@Suite struct LineChartTests {
    @Test func onePathPerSeriesAndOneBand() {
        let chart = Samples.ablation()
        let svg = SVGReport.lineChart(chart)
        let check = XMLCheck.parse(svg)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(check.count("path", class: "series") == 4)
        #expect(check.count("path", class: "band") == 1)
        for name in chart.series.map(\.name) + ["Random order, 5th–95th percentile", "Neurons ablated", "Accuracy"] {
            #expect(check.texts.contains(name), "legend or axis misses \(name)")
        }
        // Dashed series keep their dash.
        #expect(svg.contains("stroke-dasharray"))
    }

    @Test func skipsEmptyAndNaNSeries() {
        let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            LineSeries(name: "empty", x: [], y: []),
            LineSeries(name: "all missing", x: [0, 1], y: [.nan, .nan]),
            LineSeries(name: "gappy", x: [0, 1, 2, 3, 4], y: [1, .nan, 2, 3, .infinity]),
            LineSeries(name: "mismatched", x: [0, 1, 2], y: [0.5]),
        ], bands: [Band(name: "b", x: [0, 1], lower: [.nan, 0], upper: [1, .nan])])
        let svg = SVGReport.lineChart(chart)
        let check = XMLCheck.parse(svg)
        #expect(check.isValid)
        #expect(check.count("path", class: "series") == 2)
        #expect(check.count("path", class: "band") == 0)
        #expect(check.texts.contains("empty (no data)"))
        #expect(!svg.contains("nan") && !svg.contains("NaN") && !svg.contains("inf"))
    }

    @Test func noDataAtAll() {
        let chart = LineChart(title: "", xLabel: "", yLabel: "", series: [])
        let check = XMLCheck.parse(SVGReport.lineChart(chart))
        #expect(check.isValid)
        #expect(check.texts.contains("no data"))
    }

    @Test func flatSeriesAndFixedRange() {
        let flat = LineChart(title: "flat", xLabel: "x", yLabel: "y",
                             series: [LineSeries(name: "s", x: [3, 3], y: [0.5, 0.5])])
        #expect(XMLCheck.parse(SVGReport.lineChart(flat)).isValid)
        let fixed = LineChart(title: "fixed", xLabel: "x", yLabel: "y",
                              series: [LineSeries(name: "s", x: [0, 1, 2], y: [-5, 0.5, 9])], yRange: 0...1)
        let check = XMLCheck.parse(SVGReport.lineChart(fixed))
        #expect(check.isValid)
        #expect(check.texts.contains("0.0") && check.texts.contains("1.0"))
    }

    @Test func escapesHostileNames() {
        let hostile = "<acc & \"f1\">"
        let chart = LineChart(title: hostile, xLabel: hostile, yLabel: hostile,
                              series: [LineSeries(name: hostile, x: [0, 1], y: [0, 1], color: "\"><script>")],
                              bands: [Band(name: hostile, x: [0, 1], lower: [0, 0], upper: [1, 1], color: "<")])
        for svg in [SVGReport.lineChart(chart), SVGReport.lineCharts([chart, chart], title: hostile, columns: 2)] {
            let check = XMLCheck.parse(svg)
            #expect(check.isValid, "\(check.errorDescription ?? "")")
            #expect(check.elementCounts["script"] == nil)
            #expect(check.texts.contains(hostile))
        }
    }

    @Test func deterministic() {
        #expect(SVGReport.lineChart(Samples.ablation()) == SVGReport.lineChart(Samples.ablation()))
        let pair = [Samples.ablation(), Samples.ablation()]
        #expect(SVGReport.lineCharts(pair, title: "two", columns: 2) == SVGReport.lineCharts(pair, title: "two", columns: 2))
    }

    @Test(arguments: [
        (0.0, 25.0, 5, 5.0), (0.3, 0.92, 6, 0.1), (0.0, 1.0, 5, 0.2), (-3.0, 7.0, 5, 2.0), (0.0, 0.013, 5, 0.002),
    ])
    func niceSteps(low: Double, high: Double, target: Int, step: Double) {
        let ticks = AxisTicks(low: low, high: high, target: target, expand: true)
        #expect(abs(ticks.step - step) < 1e-12)
        #expect(ticks.lower <= low && ticks.upper >= high)
        let first = ticks.values.first ?? .nan
        let last = ticks.values.last ?? .nan
        #expect(abs(first - ticks.lower) < 1e-9 && abs(last - ticks.upper) < 1e-9)
    }

    @Test func tickLabelsUseStepDecimals() {
        let ticks = AxisTicks(low: 0.3, high: 0.92, target: 6, expand: true)
        #expect(ticks.values.map(ticks.label) == ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"])
        let whole = AxisTicks(low: 0, high: 25, target: 5, expand: false)
        #expect(whole.values.map(whole.label) == ["0", "5", "10", "15", "20", "25"])
    }
}

@Suite struct AblationChartBandTests {
    /// The ranked curve's bootstrap band is drawn in the curve's colour, lighter than the grey
    /// random band, both named in the legend and both relative to their own curve's k = 0.
    @Test func theRankedBandIsDrawnBesideTheRandomBand() throws {
        var entry = ReproduceSynthetic.ablation(
            seed: 1, pair: ["B-PER", "B-MISC"], mode: .readout, steps: 5, values: ReproduceSynthetic.sensitivity(seed: 1))
        entry.document.value = .mean
        var curve = try #require(entry.document.curves["B-PER"])
        let own = try #require(curve.accuracy["B-PER"])
        curve.band = CurveBand(
            resamples: 200, level: 0.95, lower: ["B-PER": own.map { $0 - 0.02 }], upper: ["B-PER": own.map { $0 + 0.01 }])
        entry.document.curves["B-PER"] = curve
        let chart = AnalysisArtifacts.ablationChart(entry.document, ranking: "B-PER")
        #expect(chart.title == "Ablating by the B-PER ranking (readout mode, mean value)")
        #expect(chart.bands.count == 2)
        let ranked = try #require(chart.bands.last)
        #expect(ranked.name == "B-PER ranked, 95% band over 200 sentence resamples")
        #expect(ranked.color == "#d55e00" && ranked.opacity == 0.15)
        #expect(ranked.lower.first.map { abs($0 + 0.02) < 1e-12 } == true && ranked.upper.first.map { abs($0 - 0.01) < 1e-12 } == true)
        #expect(chart.bands.first?.name == "B-PER, 20 random orders (5th–95th pct)" && chart.bands.first?.opacity == 0.25)
        let svg = SVGReport.lineChart(chart)
        let check = XMLCheck.parse(svg)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(check.count("path", class: "band") == 2)
        #expect(check.texts.contains(ranked.name) && check.texts.contains("B-PER, 20 random orders (5th–95th pct)"))
        #expect(svg.contains("fill=\"#d55e00\" fill-opacity=\"0.15\""))
        #expect(svg.contains("fill=\"#999999\" fill-opacity=\"0.25\""))
        // Without a band (and with the zero value) the chart is as before.
        entry.document.curves["B-PER"]?.band = nil
        entry.document.value = .zero
        let plain = AnalysisArtifacts.ablationChart(entry.document, ranking: "B-PER")
        #expect(plain.bands.count == 1 && plain.title == "Ablating by the B-PER ranking (readout mode)")
    }

    @Test func anUnusableOpacityDrawsAtAQuarter() {
        for opacity in [Double.nan, 0, -1, 2] {
            let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [],
                                  bands: [Band(name: "b", x: [0, 1], lower: [0, 0], upper: [1, 1], opacity: opacity)])
            #expect(SVGReport.lineChart(chart).contains("fill-opacity=\"0.25\""), "\(opacity)")
        }
    }
}
