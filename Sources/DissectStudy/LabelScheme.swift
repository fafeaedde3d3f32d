import DissectAnalysis
import DissectCorpus
import Foundation

/// How a study reads its label set: BIO (an `O` label and `B-x`/`I-x` labels
/// for entity types x) or not. The paper's claims (d)–(h) are about B-x, I-x
/// and O; on a BIO set they are generalised to the types present, on any other
/// set (POS tags) they cannot apply.
public struct LabelScheme: Sendable, Equatable {
    /// Entity types in the order their first label appears; empty when the set is not BIO.
    public var types: [String]
    /// Per type, its `B-` and its `I-` label as spelled in the data (`B-person`, `b-person`).
    public var begin: [String: String]
    public var inside: [String: String]
    /// The outside label as spelled (`O` or `o`), when the set has one.
    public var outside: String?
    /// Why the set is not BIO; nil when it is.
    public var notBIOReason: String?

    public var isBIO: Bool { notBIOReason == nil }

    /// A label set is BIO when every label is `O`, or `B-` or `I-` and a
    /// non-empty type (either prefix letter in either case: `B-PER`,
    /// `i-person`), and at least one label has a type. The type is the rest of
    /// the label as written. Other prefixes (`E-`, `S-` of BIOES) make the set not BIO.
    public static func detect(_ labels: [String]) -> LabelScheme {
        var scheme = LabelScheme(types: [], begin: [:], inside: [:], outside: nil, notBIOReason: nil)
        var others: [String] = []
        for label in labels {
            if label == "O" || label == "o" {
                scheme.outside = label
                continue
            }
            guard let (prefix, type) = TagScheme.split(label, anyCase: true), prefix == "B" || prefix == "I" else {
                others.append(label)
                continue
            }
            if !scheme.types.contains(type) { scheme.types.append(type) }
            if prefix == "B" { scheme.begin[type] = label } else { scheme.inside[type] = label }
        }
        if !others.isEmpty || scheme.types.isEmpty {
            let examples = (others.isEmpty ? labels : others).prefix(3).joined(separator: ", ")
            let reason = "the label set is not BIO (" + (examples.isEmpty ? "it is empty" : "labels such as \(examples) are not O, B-x or I-x")
                + "), so there are no B-x/I-x pairs"
            return LabelScheme(types: [], begin: [:], inside: [:], outside: scheme.outside, notBIOReason: reason)
        }
        return scheme
    }

    /// One line for titles and texts: "BIO with the entity types person, location" or why not.
    public var description: String {
        guard isBIO else { return "not BIO" }
        return "BIO with the entity type" + (types.count == 1 ? " " : "s ") + ReproduceNumbers.list(types)
    }
}

/// Which labels are ablated together, and the rule that chose them.
public enum AblationPairs {
    /// The rule, as the report states it.
    public static let rule = "the paper's pairs (B-PER, B-MISC) and (B-LOC, I-ORG) when all four labels are in the label set; "
        + "otherwise by training-set token frequency: of the labels other than O, the two most frequent form pair 1 and the next two pair 2 "
        + "(ties by label name; a lone last label forms its own group)"

    /// The label groups to ablate for a label set: `ReproduceNumbers.paperPairs`
    /// when every one of their labels is in `labels`, else (by `rule`) the
    /// non-O labels of `labels` by falling `trainingCounts`, two per pair, at
    /// most two pairs. Labels missing from `trainingCounts` count 0.
    public static func choose(labels: [String], trainingCounts: [String: Int]) -> [[String]] {
        let present = Set(labels)
        if ReproduceNumbers.paperPairs.joined().allSatisfy(present.contains) { return ReproduceNumbers.paperPairs }
        let outside = LabelScheme.detect(labels).outside ?? "O"
        var seen = Set<String>()
        let candidates = labels.filter { $0 != outside && seen.insert($0).inserted }.sorted { a, b in
            let x = trainingCounts[a] ?? 0, y = trainingCounts[b] ?? 0
            return x != y ? x > y : a < b
        }
        let chosen = Array(candidates.prefix(4))
        return stride(from: 0, to: chosen.count, by: 2).map { Array(chosen[$0..<min($0 + 2, chosen.count)]) }
    }
}
