/// The one parser of every `--seeds` flag (`reproduce`, `study`, `sweep`): comma-separated
/// items, each a seed (`7`) or an inclusive range (`1-100`), in any mixture (`1-3,10,20-22`).
/// Seeds keep the order written; a seed may appear once.
public enum SeedList {
    /// More seeds than this is a typing mistake rather than a study: it would be hours of
    /// training per seed, and the list is expanded into memory.
    public static let largestCount = 10_000

    /// The seeds `text` names, or the one sentence that says what is wrong with it.
    public static func parse(_ text: String) -> Result<[UInt64], SeedListError> {
        var seeds: [UInt64] = []
        var seen = Set<UInt64>()
        for rawItem in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.trimmingWhitespace
            guard !item.isEmpty else { return .failure(SeedListError("--seeds has an empty item in \"\(text)\"")) }
            let bounds: (UInt64, UInt64)
            if let dash = item.firstIndex(of: "-"), dash != item.startIndex {
                let lowText = item[..<dash].trimmingWhitespace, highText = item[item.index(after: dash)...].trimmingWhitespace
                guard let low = UInt64(lowText), let high = UInt64(highText) else {
                    return .failure(SeedListError("--seeds item \"\(item)\" is not a range of whole numbers 0 to \(UInt64.max) such as 1-100"))
                }
                guard low <= high else {
                    return .failure(SeedListError("--seeds range \"\(item)\" runs backwards; write the smaller seed first (\(high)-\(low))"))
                }
                bounds = (low, high)
            } else {
                guard let seed = UInt64(item) else {
                    return .failure(SeedListError("--seeds item \"\(item)\" is not a whole number 0 to \(UInt64.max) nor a range such as 1-100"))
                }
                bounds = (seed, seed)
            }
            // Counted before anything is expanded, so `0-18446744073709551615` allocates nothing.
            let (span, overflow) = bounds.1.subtractingReportingOverflow(bounds.0)
            guard !overflow, span < UInt64(largestCount), seeds.count + Int(span) + 1 <= largestCount else {
                return .failure(SeedListError("--seeds names more than \(largestCount) seeds; split the study into several runs"))
            }
            for seed in bounds.0...bounds.1 {
                guard seen.insert(seed).inserted else {
                    return .failure(SeedListError("--seeds names seed \(seed) twice; list each seed once"))
                }
                seeds.append(seed)
            }
        }
        return .success(seeds)
    }
}

/// Why a `--seeds` value was refused, as one sentence naming the flag and the fix.
public struct SeedListError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Substring {
    fileprivate var trimmingWhitespace: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
