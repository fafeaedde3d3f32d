import ArgumentParser
import DissectCore
import Foundation

/// The root command only configures: the work is in the subcommands.
@main
struct Dissect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train sequence-labelling RNNs and measure and dissect their neurons.",
        discussion: """
            Reproduces and extends Xin, Lin & Yu (EMNLP 2019), "What Part of the Neural Network \
            Does This? Understanding LSTMs by Measuring and Dissecting Neurons".
            """,
        version: "0.1.0",
        subcommands: [Train.self, Evaluate.self, SensitivityCommand.self, AblateCommand.self, CorrelateCommand.self, ReproduceCommand.self]
    )

    /// Every failure ends as one `error:` line and an exit code: 1 for bad
    /// input, 2 for bad usage.
    static func main() {
        BLAS.setThreadCount(1)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as DissectError {
            Terminal.finishLine()
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            switch error.kind {
            case .input: Foundation.exit(1)
            case .usage: Foundation.exit(2)
            case .interrupted: Foundation.exit(130)
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            Terminal.finishLine()
            var message = fullMessage(for: error)
            if !message.hasPrefix("Error:") && !message.hasPrefix("error:") { message = "error: " + message }
            message = message.replacingOccurrences(of: "Error: ", with: "error: ")
            FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
