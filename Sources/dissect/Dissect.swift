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
        subcommands: [
            Train.self, Evaluate.self, SensitivityCommand.self, AblateCommand.self, CorrelateCommand.self, CompareCommand.self,
            RankCommand.self, ConceptsCommand.self, PruneCommand.self, SizesCommand.self, ExploreCommand.self, ImportCommand.self, ReproduceCommand.self, StudyCommand.self, SweepCommand.self, DataCommand.self, ChartCommand.self,
            SweepRunCommand.self, SweepAggregateCommand.self,
        ]
    )

    /// Every failure ends as one `error:` line and an exit code: 1 for bad
    /// input, 2 for bad usage.
    static func main() {
        useFastBLASKernels()
        BLAS.setThreadCount(1)
        do {
            try checkVectorBits()
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

/// `DISSECT_VECTOR_BITS`, read by CKernels before `main`, means something only as 256 (the
/// AVX2 kernels) or 512 (AVX-512 where the CPU has it, as when unset); any other value would
/// be passed over in silence, so it stops the command.
func checkVectorBits() throws {
    guard let value = ProcessInfo.processInfo.environment["DISSECT_VECTOR_BITS"], !value.isEmpty,
          value != "256", value != "512" else { return }
    throw DissectError(
        .usage, problem: "$DISSECT_VECTOR_BITS is '\(value)', which is not a vector width dissect has",
        fix: "set it to 256 for the AVX2 kernels or 512 (or unset it) for AVX-512 where the CPU has it")
}

/// OpenBLAS picks its kernels while it loads, before `main`, so when it fell
/// back to its generic ones on a CPU it does not recognise (`BLAS.preferredCore`)
/// the only way to get the right ones is to start again with `OPENBLAS_CORETYPE`
/// set. A user who sets the variable keeps their choice; if the restart fails,
/// dissect goes on with the kernels it has.
func useFastBLASKernels() {
    guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
          let core = BLAS.preferredCore(current: BLAS.coreName, cpuFlags: BLAS.cpuFlags())
    else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}
