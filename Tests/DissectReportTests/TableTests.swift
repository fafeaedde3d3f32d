import Testing
@testable import DissectReport

@Suite struct TableTests {
    @Test func csvQuotesOnlyWhereNeeded() {
        let text = CSVReport.table(header: ["label", "note"], rows: [
            ["B-PER", "plain"],
            ["a,b", "say \"hi\""],
            ["line\nbreak", "cr\rhere"],
            ["", " spaced "],
        ])
        #expect(text == "label,note\nB-PER,plain\n\"a,b\",\"say \"\"hi\"\"\"\n\"line\nbreak\",\"cr\rhere\"\n, spaced \n")
        #expect(CSVReport.table(header: ["only"], rows: []) == "only\n")
    }

    @Test func csvNumbers() {
        #expect(CSVReport.number(nil) == "")
        #expect(CSVReport.number(0.5) == "0.500000")
        #expect(CSVReport.number(-0.0) == "0.000000")
        #expect(CSVReport.number(-0.0000001) == "0.000000")
        #expect(CSVReport.number(-1.25, decimals: 1) == "-1.3")
        #expect(CSVReport.number(12.345678912) == "12.345679")
        #expect(CSVReport.number(3, decimals: 0) == "3")
        #expect(CSVReport.number(1e20, decimals: 2) == "100000000000000000000.00")
        #expect(CSVReport.number(-2e18, decimals: 0) == "-2000000000000000000")
        #expect(CSVReport.number(.nan) == "NaN")
    }

    @Test func markdownTable() {
        let text = MarkdownReport.table(header: ["label", "F1", "note"],
                                        rows: [["B-PER", "0.91"], ["I-MISC", "0.5", "a|b\nc"]],
                                        alignments: [.left, .right, .center])
        let expected = """
            | label  |   F1 |   note    |
            | ------ | ---: | :-------: |
            | B-PER  | 0.91 |           |
            | I-MISC |  0.5 | a\\|b<br>c |

            """
        #expect(text == expected)
        #expect(MarkdownReport.table(header: [], rows: []) == "")
    }
}
