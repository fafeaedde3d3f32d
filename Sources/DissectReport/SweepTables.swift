import DissectStudy

/// A sweep's tables, rendered from its aggregate: `runs.csv` (one row per run) and `groups.csv`
/// (one row per group of runs that differ only by seed, with the mean and sample standard deviation of F1).
public enum SweepTables {
    public static func runsCSV(_ aggregate: SweepAggregate) -> String {
        var lines = ["run,group,seed,cell,hidden,layers,control_task,dev_f1,test_f1,dev_accuracy,test_accuracy,best_epoch,seconds"]
        for run in aggregate.runs {
            let settings = run.settings
            lines.append([
                run.name, run.group, String(run.seed), settings.cell.rawValue, String(settings.hiddenSize), String(settings.layers),
                settings.controlTask ? "on" : "off", number(run.devF1), number(run.testF1), number(run.devAccuracy),
                number(run.testAccuracy), String(run.bestEpoch), number(run.seconds),
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func groupsCSV(_ aggregate: SweepAggregate) -> String {
        var lines = ["group,cell,hidden,layers,control_task,seeds,dev_f1_mean,dev_f1_sd,test_f1_mean,test_f1_sd,report"]
        for group in aggregate.groups {
            let settings = group.settings
            lines.append([
                group.name, settings.cell.rawValue, String(settings.hiddenSize), String(settings.layers), settings.controlTask ? "on" : "off",
                String(group.seeds), number(group.devF1?.mean), number(group.devF1?.standardDeviation), number(group.testF1?.mean),
                number(group.testF1?.standardDeviation), group.report,
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Empty for no value; names and groups hold only letters, digits, `-` and `_`, so nothing needs quoting.
    static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return String(value)
    }
}
