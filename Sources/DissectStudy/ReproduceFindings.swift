import DissectAnalysis

/// The report's sections on seeds and on rankers: the numbers of `ReproduceSummary.seedComparison`
/// and `ReproduceSummary.rankings` gathered once, and the sentence each section states from them.
/// Every threshold a sentence turns on is here, fixed before the data.
extension ReproduceNumbers {
    /// CKA at or above this: the seeds' layers hold largely the same information; at or above `partlySimilar`: partly.
    package static let largelySimilar = 0.8
    package static let partlySimilar = 0.5
    /// A matched neuron pair with |r| at or above this has a close counterpart.
    package static let closeMatch = 0.5
    /// Top-10 recurrence at or above this many times the random expectation: label neurons recur;
    /// at or above `somewhatRecurs`: somewhat more than chance; below: no more than chance.
    package static let clearlyRecurs = 2.0
    package static let somewhatRecurs = 1.25
    /// Points of mean drop at k = 10 by which one ranker must beat another to be ahead of it.
    package static let rankerMargin = 1.0
    /// Mean top-10 overlap with sensitivity at or above this: a ranker largely agrees with it.
    package static let agreeingOverlap = 5.0

    /// min, mean and max of some values.
    package struct Spread {
        package var min: Double
        package var mean: Double
        package var max: Double

        package init?(_ values: [Double]) {
            let finite = values.filter(\.isFinite)
            guard let low = finite.min(), let high = finite.max() else { return nil }
            min = low; max = high; mean = finite.reduce(0, +) / Double(finite.count)
        }

        /// "0.94" when all are equal at `decimals`, else "0.94–0.95".
        package func range(_ decimals: Int = 2) -> String {
            let low = fixed(min, decimals), high = fixed(max, decimals)
            return low == high ? low : low + "–" + high
        }
    }

    /// One pair of seeds: its similarities and how well its neurons match.
    package struct SeedPair {
        package var modelA: String
        package var modelB: String
        package var cka: Double?
        package var svcca: Double?
        package var meanMatch: Double?
        package var closeMatches: Int
        package var matches: Int
    }

    /// One label's top-10 recurrence over every ordered pair of seeds.
    package struct LabelRecurrence {
        package var label: String
        /// Mean over the ordered pairs with a defined count; nil when none has one.
        package var mean: Double?
        package var expected: Double
        package var pairs: Int
    }

    package struct SeedSimilarity {
        package var models: Int
        package var pairs: [SeedPair]
        package var kept: [Int]
        /// Each model's width (the directions SVCCA starts from).
        package var neurons: [Int]
        package var recurrence: [LabelRecurrence]
        package var cka: Spread?
        package var svcca: Spread?
        package var meanMatch: Spread?
        /// Share of all matched pairs with |r| ≥ `closeMatch`.
        package var closeShare: Double?
        /// Mean top-10 recurrence over every defined (label, ordered pair), and the mean random expectation.
        package var meanRecurrence: Double?
        package var meanExpected: Double?
    }

    package static func seedSimilarity(_ comparison: Comparison) -> SeedSimilarity {
        let pairs = comparison.pairs.map { pair in
            SeedPair(
                modelA: pair.modelA, modelB: pair.modelB, cka: pair.cka, svcca: pair.svcca, meanMatch: pair.meanMatchCorrelation,
                closeMatches: pair.matches.filter { abs($0.correlation) >= closeMatch }.count, matches: pair.matches.count)
        }
        var recurrence: [LabelRecurrence] = []
        for label in comparison.labels {
            let rows = comparison.recurrence.filter { $0.label == label }
            let counts = rows.compactMap(\.count).map(Double.init)
            recurrence.append(LabelRecurrence(
                label: label, mean: mean(counts), expected: mean(rows.map(\.expected)) ?? 0, pairs: counts.count))
        }
        let defined = comparison.recurrence.filter { $0.count != nil }
        let matches = pairs.reduce(0) { $0 + $1.matches }
        return SeedSimilarity(
            models: comparison.models.count, pairs: pairs, kept: comparison.svccaKept, neurons: comparison.neurons, recurrence: recurrence,
            cka: Spread(pairs.compactMap(\.cka)), svcca: Spread(pairs.compactMap(\.svcca)), meanMatch: Spread(pairs.compactMap(\.meanMatch)),
            closeShare: matches == 0 ? nil : Double(pairs.reduce(0) { $0 + $1.closeMatches }) / Double(matches),
            meanRecurrence: mean(defined.compactMap(\.count).map(Double.init)), meanExpected: mean(defined.map(\.expected)))
    }

    /// What the comparison across seeds shows, in words chosen by the thresholds above.
    package static func seedsFinding(_ similarity: SeedSimilarity) -> String {
        let pairCount = similarity.pairs.count
        guard pairCount > 0 else { return "There is only one model, so no seeds are compared." }
        var text = "Across the \(pairCount) pair\(pairCount == 1 ? "" : "s") of the \(similarity.models) seeds"
        if let cka = similarity.cka {
            text += ", linear CKA is \(cka.range()) (mean \(fixed(cka.mean)))"
            if let svcca = similarity.svcca {
                let kept = Spread(similarity.kept.map(Double.init)), widths = Spread(similarity.neurons.map(Double.init))
                text += " and SVCCA \(svcca.range()) (mean \(fixed(svcca.mean)), on the top \(kept?.range(0) ?? "?") of \(widths?.range(0) ?? "?") directions)"
            }
            text += cka.mean >= largelySimilar ? ": the seeds' layers hold largely the same information"
                : cka.mean >= partlySimilar ? ": the seeds' layers hold partly the same information"
                : ": the seeds' layers hold different information"
            if let svcca = similarity.svcca, svcca.mean < cka.mean - 0.2 {
                text += ", though the directions that carry it differ more than CKA alone suggests"
            }
        } else {
            text += ", CKA is undefined (a layer is constant)"
        }
        text += ". "
        if let share = similarity.closeShare, let match = similarity.meanMatch {
            text += "One-to-one matching pairs neurons with mean |r| \(fixed(match.mean)); \(fixed(share * 100, 0)) % of matched neurons have |r| ≥ \(fixed(closeMatch, 1))"
            text += share >= 0.5 ? ", so most neurons have a close counterpart in another seed. "
                : ", so most neurons have no close counterpart: the same information sits in differently mixed neurons. "
        }
        if let recurrence = similarity.meanRecurrence, let expected = similarity.meanExpected, expected > 0 {
            let ratio = recurrence / expected
            text += "Of a label's top 10 neurons, \(fixed(recurrence, 1)) on average are matched into the other seed's top 10 for that label, "
                + "against \(fixed(expected, 1)) by chance (\(fixed(ratio, 1))×)"
            text += ratio >= clearlyRecurs ? ": the neurons that carry a label recur across seeds"
                : ratio >= somewhatRecurs ? ": the neurons that carry a label recur somewhat more than chance"
                : ": the neurons that carry a label recur no more than chance would give"
            let ranked = similarity.recurrence.filter { $0.mean != nil }
                .sorted { ($0.mean ?? 0) != ($1.mean ?? 0) ? ($0.mean ?? 0) > ($1.mean ?? 0) : $0.label < $1.label }
            if let most = ranked.first, let least = ranked.last, ranked.count >= 2, (most.mean ?? 0) > (least.mean ?? 0) {
                text += ", most for \(most.label) (\(fixed(most.mean, 1))) and least for \(least.label) (\(fixed(least.mean, 1)))"
            }
            text += "."
        } else {
            text += "No label has a ranking in two seeds, so recurrence is undefined."
        }
        return text
    }

    /// One ranking method, over the labels it was scored on.
    package struct RankerRow {
        package var method: RankMethod
        package var meanDrop: Double?
        package var meanArea: Double?
        /// Labels on which this method's drop at k = 10 is the largest (ties count for each).
        package var wins: Int
        package var meanOverlap: Double?
        package var meanSpearman: Double?
        package var probeAccuracy: Double?
    }

    package static func rankerRows(_ document: RankingDocument) -> [RankerRow] {
        let best = document.labels.map { label in
            document.methods.compactMap { $0.labels[label]?.dropAt10 }.filter(\.isFinite).max()
        }
        return document.methods.map { method in
            let entries = document.labels.compactMap { method.labels[$0] }
            var wins = 0
            for (label, top) in zip(document.labels, best) {
                if let drop = method.labels[label]?.dropAt10, let top, drop.isFinite, drop >= top - 1e-9 { wins += 1 }
            }
            let comparesWithItself = method.method == .sensitivity
            return RankerRow(
                method: method.method, meanDrop: mean(entries.map(\.dropAt10).filter(\.isFinite)),
                meanArea: mean(entries.map(\.area).filter(\.isFinite)), wins: wins,
                meanOverlap: comparesWithItself ? nil : mean(entries.compactMap(\.top10OverlapWithSensitivity).map(Double.init)),
                meanSpearman: comparesWithItself ? nil : mean(entries.compactMap(\.spearmanWithSensitivity).filter(\.isFinite)),
                probeAccuracy: method.probeTrainingAccuracy)
        }
    }

    /// What the rival rankings show, in words chosen by the thresholds above.
    package static func rankersFinding(_ document: RankingDocument, seed: String) -> String {
        let rows = rankerRows(document).filter { $0.meanDrop != nil }
        guard !rows.isEmpty else { return "No ranking of \(seed) could be scored." }
        let ordered = rows.sorted { ($0.meanDrop ?? 0) != ($1.meanDrop ?? 0) ? ($0.meanDrop ?? 0) > ($1.meanDrop ?? 0) : $0.method.rawValue < $1.method.rawValue }
        let k = document.dropK, labels = document.labels.count
        var text = "On \(seed), with each label's top \(k) neurons ablated on test, "
        text += ordered.map { "\($0.method.rawValue) costs \(fixed($0.meanDrop, 1))" }.joined(separator: ", ")
        text += " points of the label's accuracy on average over \(labels) label\(labels == 1 ? "" : "s")"
        guard let top = ordered.first else { return text + "." }
        if let sensitivity = ordered.first(where: { $0.method == .sensitivity }), ordered.count >= 2 {
            let gap = (top.meanDrop ?? 0) - (sensitivity.meanDrop ?? 0)
            if top.method == .sensitivity || gap < rankerMargin {
                let runnerUp = ordered.first { $0.method != .sensitivity }
                let lead = (sensitivity.meanDrop ?? 0) - (runnerUp?.meanDrop ?? 0)
                text += lead >= rankerMargin
                    ? ": the paper's sensitivity finds the neurons the model uses best, \(fixed(lead, 1)) points ahead of \(runnerUp?.method.rawValue ?? "the rest")"
                    : ": the paper's sensitivity is within \(fixed(rankerMargin, 0)) point\(rankerMargin == 1 ? "" : "s") of the best ranking, so the method matters little here"
            } else {
                text += ": \(top.method.rawValue) finds the neurons the model uses better than the paper's sensitivity, by \(fixed(gap, 1)) points"
            }
            text += " (\(top.method.rawValue) has the largest drop on \(top.wins) of \(labels) labels)"
        }
        // The area weighs every depth k = 1 … K; say so when it crowns another ranking.
        let byArea = rows.filter { $0.meanArea != nil }
            .sorted { ($0.meanArea ?? 0) != ($1.meanArea ?? 0) ? ($0.meanArea ?? 0) > ($1.meanArea ?? 0) : $0.method.rawValue < $1.method.rawValue }
        if let leader = byArea.first, leader.method != top.method {
            text += "; over the whole curve (the area, k = 1 … \(document.steps)) \(leader.method.rawValue) leads instead, "
                + "\(fixed(leader.meanArea, 1)) points against \(fixed(top.meanArea, 1))"
        }
        text += "."
        let rivals = rows.filter { $0.method != .sensitivity && $0.meanOverlap != nil }
        if !rivals.isEmpty {
            text += " Against sensitivity's top 10, " + rivals.map { "\($0.method.rawValue) shares \(fixed($0.meanOverlap, 1))" }.joined(separator: ", ")
            let agreeing = rivals.filter { ($0.meanOverlap ?? 0) >= agreeingOverlap }.map(\.method.rawValue)
            text += agreeing.count == rivals.count ? " neurons on average: the rankers largely agree on which neurons matter."
                : agreeing.isEmpty ? " neurons on average: the rankers disagree on most of the top 10, so which neurons \"carry\" a label depends on how one asks."
                : " neurons on average: " + list(agreeing) + " largely agree" + (agreeing.count == 1 ? "s" : "") + " with sensitivity, the others do not."
        }
        return text
    }
}
