import Testing
@testable import DissectReport

@Suite struct ColorTests {
    @Test func endpoints() {
        #expect(SVGReport.color(value: 0, scale: 2) == "#ffffff")
        #expect(SVGReport.color(value: -0.0, scale: 2) == "#ffffff")
        #expect(SVGReport.color(value: 2, scale: 2) == "#b2182b")
        #expect(SVGReport.color(value: -2, scale: 2) == "#2166ac")
        #expect(SVGReport.color(value: nil, scale: 2) == "#d9d9d9")
        #expect(SVGReport.color(value: .nan, scale: 2) == "#d9d9d9")
    }

    @Test func clampsBeyondScale() {
        #expect(SVGReport.color(value: 7, scale: 2) == "#b2182b")
        #expect(SVGReport.color(value: -7, scale: 2) == "#2166ac")
        #expect(SVGReport.color(value: .infinity, scale: 2) == "#b2182b")
        #expect(SVGReport.color(value: -.infinity, scale: 2) == "#2166ac")
    }

    @Test func badScaleDoesNotCrash() {
        #expect(SVGReport.color(value: 1, scale: 0) == "#b2182b")
        #expect(SVGReport.color(value: 0, scale: .nan) == "#ffffff")
    }

    @Test func deepensMonotonicallyWithMagnitude() {
        func channels(_ hex: String) -> [Int] {
            let digits = Array(hex.dropFirst())
            return stride(from: 0, to: 6, by: 2).map { Int(String(digits[$0..<($0 + 2)]), radix: 16) ?? -1 }
        }
        for sign in [1.0, -1.0] {
            var previous = channels("#ffffff")
            for step in 1...40 {
                let current = channels(SVGReport.color(value: sign * Double(step) / 20, scale: 1.5))
                for index in 0..<3 { #expect(current[index] <= previous[index]) }
                #expect(current.reduce(0, +) <= previous.reduce(0, +))
                previous = current
            }
        }
        // Halfway is strictly between white and the deep colour.
        let half = channels(SVGReport.color(value: 1, scale: 2))
        #expect(half[0] < 255 && half[0] > 0xb2)
        #expect(half[1] < 255 && half[1] > 0x18)
    }
}

@Suite struct HeatmapTests {
    @Test func oneCellPerValueAndValuesPrinted() {
        let map = Heatmap(title: "t", rowLabels: ["a", "b"], columnLabels: ["x", "y", "z"],
                          values: [[1.234, -0.5, nil], [0, 2, -2]])
        let svg = SVGReport.heatmap(map)
        let check = XMLCheck.parse(svg)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(check.count("rect", class: "cell") == 6)
        for printed in ["1.23", "-0.50", "–", "0.00", "2.00", "-2.00"] {
            #expect(check.texts.contains(printed), "missing \(printed)")
        }
        #expect(check.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg")
        // The legend is labelled with the default scale: the largest |value|.
        #expect(check.texts.contains("+2.00"))
    }

    @Test func hidesValuesButKeepsDashForMissing() {
        var map = Samples.sensitivity()
        map.showValues = false
        let check = XMLCheck.parse(SVGReport.heatmap(map))
        #expect(check.isValid)
        #expect(check.count("rect", class: "cell") == 450)
        #expect(!check.texts.contains("0.19"))
        #expect(check.texts.filter { $0 == "–" }.count == 50)
    }

    @Test func decimalsAndExplicitScale() {
        let map = Heatmap(title: "", rowLabels: ["r"], columnLabels: ["c"], values: [[0.12345]], scale: 0.5, decimals: 3)
        let check = XMLCheck.parse(SVGReport.heatmap(map))
        #expect(check.texts.contains("0.123"))
        #expect(check.texts.contains("+0.500"))
    }

    @Test func escapesHostileLabels() {
        let hostile = "<b>&\"quoted\" 'it's' ]]> \u{1}"
        let map = Heatmap(title: hostile, rowLabels: [hostile, "ok"], columnLabels: [hostile, "A very long column label"],
                          values: [[1, nil], [-1, 0.5]], caption: hostile)
        for svg in [SVGReport.heatmap(map), SVGReport.heatmaps([map, map, map], title: hostile, columns: 2)] {
            let check = XMLCheck.parse(svg)
            #expect(check.isValid, "\(check.errorDescription ?? "")")
            #expect(check.texts.contains("<b>&\"quoted\" 'it's' ]]> "))
        }
    }

    @Test func severalMapsInOneDocument() {
        let maps = (1...4).map { Samples.correlation(seed: UInt64($0), title: "Layer \($0)") }
        let check = XMLCheck.parse(SVGReport.heatmaps(maps, title: "Correlations", columns: 2))
        #expect(check.isValid)
        #expect(check.elementCounts["svg"] == 1)
        #expect(check.count("rect", class: "cell") == 4 * 81)
        #expect(check.texts.contains("Correlations"))
    }

    @Test func raggedAndEmptyMapsAreSafe() {
        let ragged = Heatmap(title: "ragged", rowLabels: ["a"], columnLabels: [], values: [[1], [1, 2, 3], []])
        let empty = Heatmap(title: "empty", rowLabels: [], columnLabels: [], values: [])
        let allMissing = Heatmap(title: "missing", rowLabels: ["a"], columnLabels: ["b"], values: [[nil]])
        for map in [ragged, empty, allMissing] {
            let check = XMLCheck.parse(SVGReport.heatmap(map))
            #expect(check.isValid, "\(map.title)")
        }
        #expect(XMLCheck.parse(SVGReport.heatmap(ragged)).count("rect", class: "cell") == 4)
        #expect(XMLCheck.parse(SVGReport.heatmaps([], title: nil, columns: 3)).isValid)
    }

    /// A `true` mark is one grey dot in its cell; the legend shows one more beside its text.
    @Test func marksAreDotsWithALegend() {
        var map = Heatmap(title: "t", rowLabels: ["a", "b"], columnLabels: ["x", "y", "z"],
                          values: [[1, -0.5, nil], [0, 2, -2]], marks: [[false, true, false], [true, false]],
                          markLegend: "not a finding")
        var check = XMLCheck.parse(SVGReport.heatmap(map))
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(check.count("circle", class: "mark") == 3)
        #expect(check.texts.contains("not a finding"))
        #expect(map.isMarked(row: 0, column: 1) && !map.isMarked(row: 1, column: 2) && !map.isMarked(row: 5, column: 0))
        // Without marks (or none true) nothing is drawn, and the legend line is left out.
        map.marks = [[false, false, false], [false, false, false]]
        check = XMLCheck.parse(SVGReport.heatmap(map))
        #expect(check.count("circle", class: "mark") == 0 && !check.texts.contains("not a finding"))
        map.marks = nil
        #expect(XMLCheck.parse(SVGReport.heatmap(map)).count("circle", class: "mark") == 0)
    }

    @Test func deterministic() {
        let map = Samples.sensitivity()
        #expect(SVGReport.heatmap(map) == SVGReport.heatmap(Samples.sensitivity()))
        let maps = (1...4).map { Samples.correlation(seed: UInt64($0), title: "L\($0)") }
        #expect(SVGReport.heatmaps(maps, title: "x", columns: 2) == SVGReport.heatmaps(maps, title: "x", columns: 2))
    }
}
