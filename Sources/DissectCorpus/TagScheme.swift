import DissectCore

/// The way entity labels mark spans.
public enum TagScheme: String, Sendable, Codable {
    /// IOB2 (BIO): every entity starts with B-X.
    case bio = "IOB2"
    /// IOB1: an entity starts with I-X; B-X only separates two adjacent entities of type X.
    case iob1 = "IOB1"
    /// IOBES: B-X, I-X, E-X for multi-token entities and S-X for single tokens.
    case iobes = "IOBES"
    /// Labels without B-/I-/E-/S- prefixes (or O only and something else).
    case notBIO = "not BIO"
    /// Only the label O: no entity at all, any BIO scheme fits.
    case outsideOnly = "O only"

    /// Detects the scheme of `sentences` (each a list of labels).
    ///
    /// Rules: any label that is neither O nor `P-type` with P in B, I, E, S gives
    /// `.notBIO`; an E- or S- label gives `.iobes`; an I-X that starts an entity
    /// (the previous label in its sentence is not B-X or I-X) gives `.iob1`;
    /// otherwise, with at least one B- or I- label, `.bio`.
    public static func detect<S: Sequence>(_ sentences: S) -> TagScheme where S.Element == [String] {
        var sawEntity = false, sawEndOrSingle = false, sawEntityStartingI = false
        for labels in sentences {
            var previous = "O"
            for label in labels {
                guard let (prefix, type) = split(label) else {
                    if label != "O" { return .notBIO }
                    previous = label
                    continue
                }
                sawEntity = true
                switch prefix {
                case "E", "S": sawEndOrSingle = true
                case "I":
                    if let (previousPrefix, previousType) = split(previous),
                       previousType == type, previousPrefix == "B" || previousPrefix == "I" {
                    } else {
                        sawEntityStartingI = true
                    }
                default: break
                }
                previous = label
            }
        }
        if !sawEntity { return .outsideOnly }
        if sawEndOrSingle { return .iobes }
        return sawEntityStartingI ? .iob1 : .bio
    }

    /// `("B", "PER")` for `B-PER`; nil for O or a label without a B/I/E/S prefix.
    /// With `anyCase`, a lower-case prefix letter counts too (`b-person` gives `("B", "person")`).
    public static func split(_ label: String, anyCase: Bool = false) -> (prefix: String, type: String)? {
        let utf8 = label.utf8
        guard utf8.count >= 3, var first = utf8.first, utf8.dropFirst().first == UInt8(ascii: "-") else { return nil }
        if anyCase, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z") { first -= 32 }
        guard first == UInt8(ascii: "B") || first == UInt8(ascii: "I") || first == UInt8(ascii: "E") || first == UInt8(ascii: "S")
        else { return nil }
        return (String(decoding: [first], as: UTF8.self), String(label.dropFirst(2)))
    }

    /// IOB1 or IOBES labels of one sentence rewritten as IOB2: an I-X that does
    /// not continue a B-X/I-X/E-X... becomes B-X, S-X becomes B-X, E-X becomes I-X;
    /// O and IOB2 labels are kept.
    public static func toBIO(_ labels: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(labels.count)
        var previousType: String?   // the entity type the previous token belongs to, nil for O
        for label in labels {
            guard let (prefix, type) = split(label) else {
                result.append(label)
                previousType = nil
                continue
            }
            switch prefix {
            case "I", "E":
                result.append(previousType == type ? "I-" + type : "B-" + type)
            default:   // B, S
                result.append("B-" + type)
            }
            // After E- or S- the entity is closed; the next I-X would start a new one.
            previousType = (prefix == "E" || prefix == "S") ? nil : type
        }
        return result
    }
}
