import DissectModel
import Foundation
import Testing
@testable import DissectStudy

/// The one `--seeds` parser, the grid a sweep expands and the Slurm array it submits.
@Suite struct SweepPlanTests {
    func seeds(_ text: String) -> [UInt64]? { try? SeedList.parse(text).get() }

    func error(_ text: String) -> String {
        if case .failure(let error) = SeedList.parse(text) { return error.description }
        return "no error"
    }

    @Test func seedListsRangesAndMixtures() {
        #expect(seeds("1,2,3,4") == [1, 2, 3, 4])
        #expect(seeds("1-5") == [1, 2, 3, 4, 5])
        #expect(seeds("7") == [7])
        #expect(seeds("1-3,10, 20 - 22") == [1, 2, 3, 10, 20, 21, 22])
        #expect(seeds("5,1-2") == [5, 1, 2], "the order written is kept")
        #expect(seeds("0-0") == [0])
        #expect(seeds("1-10000")?.count == 10_000)
        #expect(seeds("18446744073709551615") == [UInt64.max])
    }

    @Test func badSeedListsAreOneSentence() {
        #expect(error("") == "--seeds has an empty item in \"\"")
        #expect(error("1,,2") == "--seeds has an empty item in \"1,,2\"")
        #expect(error("1,") == "--seeds has an empty item in \"1,\"")
        #expect(error("3-1") == "--seeds range \"3-1\" runs backwards; write the smaller seed first (1-3)")
        #expect(error("x").hasPrefix("--seeds item \"x\" is not a whole number"))
        #expect(error("-5").hasPrefix("--seeds item \"-5\" is not a whole number"))
        #expect(error("1-").hasPrefix("--seeds item \"1-\" is not a range"))
        #expect(error("1--3").hasPrefix("--seeds item \"1--3\" is not a range"))
        #expect(error("18446744073709551616").hasPrefix("--seeds item \"18446744073709551616\" is not a whole number"))
        #expect(error("1,1") == "--seeds names seed 1 twice; list each seed once")
        #expect(error("1-3,2") == "--seeds names seed 2 twice; list each seed once")
        // Counted before anything is expanded: the widest range allocates nothing.
        #expect(error("0-18446744073709551615") == "--seeds names more than 10000 seeds; split the study into several runs")
        #expect(error("1-10001") == "--seeds names more than 10000 seeds; split the study into several runs")
        #expect(error("1-5000,6000-11000") == "--seeds names more than 10000 seeds; split the study into several runs")
    }

    static let common = SweepCommon(
        trainPath: "/d/train.txt", devPath: "/d/valid.txt", testPath: "/d/test.txt", embeddingsPath: nil, tagColumn: nil, epochs: 1,
        learningRate: 0.015, batchSize: 10, dropout: 0.5, steps: 2, randomCount: 2, recurrentRandomCount: 1, bootstrap: 0,
        permutations: 0, all: false, paperDirectory: nil, anchorsFile: nil)

    @Test func gridNamesRunsByWhatVaries() throws {
        let plan = try SweepPlan.expand(
            seeds: [1, 2], cells: [.lstm, .gru], hiddenSizes: [50], layers: [1], controlTask: [false, true],
            common: Self.common, threads: 2, command: "dissect sweep")
        #expect(plan.runs.count == 8)
        #expect(plan.runs.map(\.index) == Array(0..<8))
        #expect(plan.runs.first?.name == "seed-1_cell-lstm_control-task-off")
        #expect(plan.runs.last?.name == "seed-2_cell-gru_control-task-on")
        #expect(plan.groups == ["cell-lstm_control-task-off", "cell-lstm_control-task-on", "cell-gru_control-task-off", "cell-gru_control-task-on"])
        #expect(Set(plan.runs.map(\.name)).count == 8)
        let group = try #require(plan.request(group: "cell-gru_control-task-on", sweep: "/s"))
        #expect(group.seeds == [1, 2] && group.cell == .gru && group.controlLabels && group.outputDirectory == "/s/aggregate/cell-gru_control-task-on")
        let run = plan.request(for: plan.runs[2], sweep: "/s")
        #expect(run.seeds == [1] && run.outputDirectory == "/s/runs/seed-1_cell-lstm_control-task-on" && run.controlLabels)
        let seedsOnly = try SweepPlan.expand(
            seeds: [3], cells: [.lstm], hiddenSizes: [50], layers: [1], controlTask: [false], common: Self.common, threads: 2, command: "")
        #expect(seedsOnly.runs.map(\.name) == ["seed-3"] && seedsOnly.groups == ["all"])
    }

    @Test func gridIsBoundedBeforeItIsExpanded() {
        var message = ""
        do {
            _ = try SweepPlan.expand(
                seeds: Array(1...10_000), cells: [.lstm, .gru], hiddenSizes: [50], layers: [1], controlTask: [false],
                common: Self.common, threads: 2, command: "")
        } catch { message = "\(error)" }
        #expect(message == "the sweep's grid has more than 10000 runs; give --seeds, --hidden, --cell, --layers and --control-task fewer values, or split the sweep")
    }

    @Test func slurmArrayRangesAndThrottle() throws {
        let plan = try SweepPlan.expand(
            seeds: Array(1...10), cells: [.lstm], hiddenSizes: [50], layers: [1], controlTask: [false], common: Self.common, threads: 2, command: "")
        let runs = [0, 1, 2, 5, 7, 8].map { plan.runs[$0] }
        let throttled = SlurmExecutor(binary: "/bin/dissect", threads: 3, maxParallel: 3, extraArguments: [])
        #expect(throttled.arraySpecification(runs) == "0-2,5,7-8%3")
        #expect(SlurmExecutor(binary: "/b", threads: 1, maxParallel: nil, extraArguments: []).arraySpecification([plan.runs[4]]) == "4")
        let scripts = throttled.scripts(plan: plan, pending: runs, sweep: "/shared/it's")
        let array = try #require(scripts.array)
        #expect(array.contains("#SBATCH --array=0-2,5,7-8%3\n"))
        #expect(array.contains("#SBATCH --cpus-per-task=3\n"))
        #expect(array.contains("exec '/bin/dissect' 'sweep-run' '--sweep' '/shared/it'\\''s' '--index' \"$SLURM_ARRAY_TASK_ID\""))
        #expect(scripts.aggregate.contains("exec '/bin/dissect' 'sweep-aggregate' '--sweep' '/shared/it'\\''s'"))
        #expect(throttled.scripts(plan: plan, pending: [], sweep: "/s").array == nil, "no run left: no array")
    }

    @Test("Slurm's output paths keep spaces whole and double %, which sbatch reads as a pattern")
    func slurmOutputOptions() {
        #expect(SlurmExecutor.arrayOutputOption("/shared/my sweep 100%") == "--output=/shared/my sweep 100%%/logs/slurm-%A_%a.out")
        #expect(SlurmExecutor.aggregateOutputOption("/shared/my sweep 100%") == "--output=/shared/my sweep 100%%/logs/aggregate.log")
    }
}
