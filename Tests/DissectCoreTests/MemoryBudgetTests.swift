import Testing
@testable import DissectCore

/// Byte counts that cannot overflow, and the one-line error of a request that does not fit.
@Suite struct MemoryBudgetTests {
    static let gibibyte = 1_073_741_824.0

    @Test func productsBeyondIntMaxAreEstimatedNotTrapped() {
        // The recurrent weights of `--hidden 3000000000`: 4·H·H floats.
        let estimate = MemoryEstimate.floats(4 * 3_000_000_000, 3_000_000_000)
        #expect(estimate.bytes.isFinite)
        #expect(abs(estimate.bytes / 1.44e20 - 1) < 1e-12)
        let extreme = MemoryEstimate.floats(Int.max, Int.max, Int.max) * Int.max + estimate
        #expect(extreme.bytes.isFinite && extreme.bytes > 1e75)
        #expect(MemoryEstimate.floats(-5, 7).bytes == 0)
        #expect(MemoryEstimate.words(3, 5).bytes == 120)
    }

    @Test func exactProductAndSumReportOverflow() {
        #expect(MemoryEstimate.exactProduct([4, 50, 100]) == 20_000)
        #expect(MemoryEstimate.exactProduct([]) == 1)
        #expect(MemoryEstimate.exactProduct([1 << 32, 1 << 31]) == nil)
        #expect(MemoryEstimate.exactProduct([3, -1]) == nil)
        #expect(MemoryEstimate.exactProduct([0, Int.max, Int.max]) == 0)
        #expect(MemoryEstimate.exactSum([1, 2, 3]) == 6)
        #expect(MemoryEstimate.exactSum([Int.max, 1]) == nil)
    }

    @Test func gibibyteText() {
        #expect(MemoryBudget.gibibytesText(0.5 * Self.gibibyte) == "0.5")
        #expect(MemoryBudget.gibibytesText(12_345.4 * Self.gibibyte) == "12,345")
        #expect(MemoryBudget.gibibytesText(1_000 * Self.gibibyte) == "1,000")
        #expect(MemoryBudget.gibibytesText(999 * Self.gibibyte) == "999")
        #expect(MemoryEstimate(bytes: 3 * 1024 * Self.gibibyte).description == "about 3,072 GiB")
    }

    @Test func physicalMemoryIsKnown() {
        #expect(MemoryBudget.physicalMemory > 0)
        #expect(MemoryBudget.fits(MemoryEstimate(bytes: 1024)))
        #expect(!MemoryBudget.fits(MemoryEstimate(bytes: 1e30)))
    }

    @Test func requireThrowsOneLineWithKindFileAndFix() throws {
        let eight: UInt64 = 8 << 30
        try MemoryBudget.require(
            MemoryEstimate(bytes: 7 * Self.gibibyte), for: "x", kind: .usage, fix: "f", available: eight)
        let usage = try #require(throws: DissectError.self) {
            try MemoryBudget.require(
                MemoryEstimate(bytes: 3 * 1024 * Self.gibibyte), for: "training with --hidden 9", kind: .usage,
                fix: "choose a smaller --hidden", available: eight)
        }
        #expect(usage.kind == .usage)
        #expect(usage.file == nil)
        #expect(usage.description
            == "training with --hidden 9 needs about 3,072 GiB of memory; this machine has 8.0 GiB; choose a smaller --hidden")
        let input = try #require(throws: DissectError.self) {
            try MemoryBudget.require(
                MemoryEstimate(bytes: 9 * Self.gibibyte), for: "the model", kind: .input, file: "m/model.json",
                fix: "use a machine with more memory", available: eight)
        }
        #expect(input.kind == .input)
        #expect(input.description.hasPrefix("m/model.json: the model needs about 9.0 GiB of memory; this machine has 8.0 GiB; "))
        #expect(!input.description.contains("\n"))
    }
}
