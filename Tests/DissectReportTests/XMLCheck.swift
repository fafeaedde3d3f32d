import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses SVG text as XML and tallies what it found, so tests can check both
/// well-formedness and structure without string matching on markup.
final class XMLCheck: NSObject, XMLParserDelegate {
    private(set) var elementCounts: [String: Int] = [:]
    /// Counts of `element.class`, e.g. "rect.cell".
    private(set) var classCounts: [String: Int] = [:]
    private(set) var texts: [String] = []
    private(set) var rootAttributes: [String: String] = [:]
    private(set) var errorDescription: String?
    private var currentText = ""
    private var depth = 0

    static func parse(_ svg: String) -> XMLCheck {
        let check = XMLCheck()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = check
        if !parser.parse() {
            check.errorDescription = parser.parserError.map { "\($0)" } ?? "unknown parse error"
        }
        return check
    }

    var isValid: Bool { errorDescription == nil }

    func count(_ element: String, class name: String) -> Int { classCounts["\(element).\(name)"] ?? 0 }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        if depth == 0 { rootAttributes = attributes }
        depth += 1
        elementCounts[elementName, default: 0] += 1
        if let name = attributes["class"] { classCounts["\(elementName).\(name)", default: 0] += 1 }
        currentText = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        currentText += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        depth -= 1
        if elementName == "text" || elementName == "title" { texts.append(currentText) }
        currentText = ""
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        errorDescription = "\(parseError) at line \(parser.lineNumber), column \(parser.columnNumber)"
    }
}
