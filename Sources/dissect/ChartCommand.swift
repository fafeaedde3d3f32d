import ArgumentParser
import DissectCore
import DissectReport
import Foundation

/// `dissect chart`: line charts from a JSON description, drawn as the report draws its own.
struct ChartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart",
        abstract: "Draw line charts described in a JSON file as one SVG figure.",
        discussion: """
            The file gives a title, a number of columns and charts, each with a title, axis labels, an optional \
            y range and series of x and y values (README, `chart`). The figure uses the report's chart code, so a \
            sweep or a benchmark plotted this way looks like the report's figures.
            """)

    @Option(help: "The JSON file that describes the charts.")
    var json: String

    @Option(help: "The SVG file to write.")
    var out: String

    func run() throws {
        let specification = try ChartSpecification.read(path: json)
        try AtomicFile.write(specification.svg(), to: out)
        print("wrote \(out): \(specification.charts.count) chart\(specification.charts.count == 1 ? "" : "s")")
    }
}
