/// Small statistics for comparing sensitivity matrices and rankings.
public enum Statistics {
    /// Pearson's r of two equal-length samples; nil when either is constant or shorter than 2.
    public static func pearson(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count == b.count, a.count >= 2 else { return nil }
        let meanA = a.reduce(0, +) / Double(a.count), meanB = b.reduce(0, +) / Double(b.count)
        var covariance = 0.0, varianceA = 0.0, varianceB = 0.0
        for index in a.indices {
            let da = a[index] - meanA, db = b[index] - meanB
            covariance += da * db
            varianceA += da * da
            varianceB += db * db
        }
        guard varianceA > 0, varianceB > 0 else { return nil }
        return max(-1, min(1, covariance / (varianceA * varianceB).squareRoot()))
    }

    /// Ranks from 1, ties sharing their average rank.
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let average = Double(start + end) / 2 + 1
            for position in start...end { result[order[position]] = average }
            start = end + 1
        }
        return result
    }

    /// Spearman's rho: Pearson's r of the ranks.
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double? {
        pearson(ranks(a), ranks(b))
    }

    /// How many of the first k of each list they share.
    public static func topOverlap(_ a: [Int], _ b: [Int], k: Int) -> Int {
        Set(a.prefix(k)).intersection(b.prefix(k)).count
    }

    /// The p-th percentile (p in [0, 100]) by linear interpolation, as numpy's default.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        percentile(sorted: values.sorted(), p)
    }

    /// `percentile` of values already sorted ascending (several percentiles of one sample sort it once).
    public static func percentile(sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = p / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// Benjamini–Hochberg q-values (R's `p.adjust(p, "BH")`), in the order of `p`:
    /// with p₍₁₎ ≤ … ≤ p₍ₖ₎ sorted, q₍ᵢ₎ = min over j ≥ i of k·p₍ⱼ₎ / j, capped at 1.
    /// The step-up minimum makes q monotone in p; q ≥ p. Ties keep their order of `p`.
    /// Rejecting every q < α controls the false discovery rate at α for independent or
    /// positively dependent tests.
    public static func benjaminiHochberg(_ p: [Double]) -> [Double] {
        let k = p.count
        let order = p.indices.sorted { p[$0] != p[$1] ? p[$0] < p[$1] : $0 < $1 }
        var q = [Double](repeating: 0, count: k)
        var running = 1.0
        for position in stride(from: k - 1, through: 0, by: -1) {
            let index = order[position]
            running = min(running, Double(k) * p[index] / Double(position + 1))
            q[index] = running
        }
        return q
    }

    /// Pearson correlation between every pair of columns of an `[n][m]`
    /// matrix, across its rows: the paper's label-by-label matrix (Figure 6).
    /// A column that is nil or constant gives nil entries (its diagonal too).
    public static func columnCorrelation(_ matrix: [[Double?]]) -> [[Double?]] {
        let m = matrix.first?.count ?? 0
        let columns: [[Double]?] = (0..<m).map { column in
            let values = matrix.map { $0[column] }
            return values.contains { $0 == nil } ? nil : values.compactMap { $0 }
        }
        var result = [[Double?]](repeating: [Double?](repeating: nil, count: m), count: m)
        for a in 0..<m {
            for b in a..<m {
                guard let x = columns[a], let y = columns[b] else { continue }
                let r = a == b ? (pearson(x, y) == nil ? nil : 1.0) : pearson(x, y)
                result[a][b] = r
                result[b][a] = r
            }
        }
        return result
    }

    /// Pearson's r between the upper off-diagonal entries of two square
    /// matrices (pairs where both are defined): how alike two label-correlation matrices are.
    public static func offDiagonalSimilarity(_ a: [[Double?]], _ b: [[Double?]]) -> Double? {
        var x: [Double] = [], y: [Double] = []
        for row in a.indices {
            for column in (row + 1)..<a.count {
                if let u = a[row][column], let v = b[row][column] {
                    x.append(u)
                    y.append(v)
                }
            }
        }
        return pearson(x, y)
    }
}
