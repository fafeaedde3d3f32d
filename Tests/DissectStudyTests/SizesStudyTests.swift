import Testing
@testable import DissectStudy

@Suite struct SizesStudyTests {
    static func point(_ route: SizeRoute, _ fineTuned: Bool, _ hidden: Int, _ f1: Double) -> SizesDocument.Point {
        SizesDocument.Point(route: route, fineTuned: fineTuned, hidden: hidden, testF1: f1, testF1NCRF: f1, seconds: 0)
    }

    /// The smallest size within 1 point of the full model's 80.0: the first of each route's series (sizes
    /// increasing) at 79.0 or more, not the last to drop below; the full size when no smaller one is.
    @Test func smallestWithinOnePoint() {
        let points = [
            Self.point(.sensitivity, false, 10, 70), Self.point(.sensitivity, false, 20, 79.0), Self.point(.sensitivity, false, 30, 78.5),
            Self.point(.random, false, 10, 60), Self.point(.random, false, 20, 78.99), Self.point(.random, false, 30, 78),
            Self.point(.reverse, false, 10, 50), Self.point(.reverse, false, 20, 79.5), Self.point(.reverse, false, 30, 81),
            Self.point(.scratch, false, 30, 79.2), Self.point(.scratch, false, 10, 79.1), Self.point(.scratch, false, 20, 75),
        ]
        let document = SizesDocument(
            model: "m", data: "test", fullHidden: 40, fullTestF1: 80, fullTestF1NCRF: 80, tolerance: 1, fineTuneEpochs: 0,
            scratchEpochs: 10, seed: 1, points: points, smallest: [], seconds: 0)
        let smallest = SizesStudy.smallest(document)
        #expect(smallest.map(\.route) == [.sensitivity, .random, .reverse, .scratch])
        #expect(smallest.map(\.hidden) == [20, 40, 20, 10])
        #expect(SizesStudy.routes(document).count == 4, "no fine-tuned routes without fine-tuning")
        #expect(SizesStudy.defaultSizes(hiddenSize: 50) == [5, 10, 15, 20, 25, 30, 35, 40, 45])
        #expect(SizesStudy.defaultSizes(hiddenSize: 4).isEmpty)
    }
}
