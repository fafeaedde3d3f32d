import DissectCore

/// The time-major packing of a group of sentences for the batched recurrence,
/// as PyTorch's packed sequences: the sentences sorted by decreasing length
/// (ties in their original order), and step s of all of them that are still
/// running stored as one block of consecutive "packed rows". Because the order
/// is by decreasing length, the sentences active at step s are always the
/// first `activeCount(s)` of the order, for either direction (a reverse
/// direction's step s reads token len − 1 − s of each sentence).
///
/// Shapes (n sentences, S = the longest length): `order`, `starts`, `lengths` `[n]`;
/// `stepStarts` `[S + 1]`. Empty sentences sort last and are never active.
public struct RecurrencePacking {
    /// Token offset and length of each sentence, in packed (decreasing-length) order.
    public var starts: UnsafePointer<Int32>
    public var lengths: UnsafePointer<Int32>
    /// Packed row of step s's first sentence; `stepStarts[S]` is the token count.
    public var stepStarts: UnsafePointer<Int32>
    public var sentenceCount: Int
    /// S, the number of steps.
    public var longest: Int

    public init(starts: UnsafePointer<Int32>, lengths: UnsafePointer<Int32>, stepStarts: UnsafePointer<Int32>, sentenceCount: Int, longest: Int) {
        self.starts = starts
        self.lengths = lengths
        self.stepStarts = stepStarts
        self.sentenceCount = sentenceCount
        self.longest = longest
    }

    /// The first packed row of step s.
    @inline(__always)
    public func stepStart(_ s: Int) -> Int { Int(stepStarts[s]) }

    /// How many sentences run at step s (a prefix of the order; 0 past the end).
    @inline(__always)
    public func activeCount(_ s: Int) -> Int { s < longest ? Int(stepStarts[s + 1] - stepStarts[s]) : 0 }

    /// The shard token that packed sentence `row` reads at step s.
    @inline(__always)
    public func token(step s: Int, row: Int, reverse: Bool) -> Int {
        Int(starts[row]) + (reverse ? Int(lengths[row]) - 1 - s : s)
    }

    /// The longest of `count` sentences starting at the token offsets `sentenceStarts` (`[count + 1]`).
    public static func longest(sentenceStarts: UnsafePointer<Int32>, count: Int) -> Int {
        var longest = 0
        for sentence in 0..<count { longest = max(longest, Int(sentenceStarts[sentence + 1] - sentenceStarts[sentence])) }
        return longest
    }

    /// Fills the packing of `count` sentences (`sentenceStarts` `[count + 1]`) by a
    /// stable counting sort on length, O(n + S) with no allocation.
    /// - Parameters: starts, lengths out `[count]`; stepStarts out `[longest + 1]`;
    ///   histogram scratch `[longest + 1]`; longest from `longest(sentenceStarts:count:)`.
    public static func pack(
        sentenceStarts: UnsafePointer<Int32>, count: Int, longest: Int,
        starts: UnsafeMutablePointer<Int32>, lengths: UnsafeMutablePointer<Int32>,
        stepStarts: UnsafeMutablePointer<Int32>, histogram: UnsafeMutablePointer<Int32>
    ) {
        histogram.update(repeating: 0, count: longest + 1)
        for sentence in 0..<count { histogram[Int(sentenceStarts[sentence + 1] - sentenceStarts[sentence])] += 1 }
        // Step s runs the sentences longer than s: first their count at stepStarts[s], from the longest down…
        var longer: Int32 = 0
        for length in stride(from: longest, through: 1, by: -1) {
            longer += histogram[length]
            stepStarts[length - 1] = longer
        }
        // …then the prefix sum of the counts, each step's first packed row.
        var running: Int32 = 0
        for s in 0..<longest {
            let active = stepStarts[s]
            stepStarts[s] = running
            running += active
        }
        stepStarts[longest] = running
        // Position of each length's first sentence in decreasing-length order, reusing the histogram.
        var position: Int32 = 0
        for length in stride(from: longest, through: 0, by: -1) {
            let sentences = histogram[length]
            histogram[length] = position
            position += sentences
        }
        for sentence in 0..<count {
            let length = Int(sentenceStarts[sentence + 1] - sentenceStarts[sentence])
            let slot = Int(histogram[length])
            histogram[length] += 1
            starts[slot] = sentenceStarts[sentence]
            lengths[slot] = Int32(length)
        }
    }
}

/// What the batched recurrence needs beyond `RecurrenceBuffers` (n sentences,
/// N tokens, H hidden, G = gates · H). In the batched path `activations`,
/// `state` and `auxiliary` of `RecurrenceBuffers` are indexed by packed row,
/// not by token; everything the caller reads (`projected`, `hidden`,
/// `hiddenGradient`, `previousHidden`, the pre-activation gradients) stays by token.
public struct BatchedRecurrenceBuffers<T: Scalar> {
    public var packing: RecurrencePacking
    /// `[N, H]` h(t) in packed order: step s's block is the A operand of step s + 1's GEMM.
    public var packedHidden: UnsafeMutablePointer<T>
    /// `[2n, G]` one step's rows: a GRU's recurrent part forward, dPre (or a GRU's dRecurrent) backward
    /// (an LSTM alternates between the two halves by step, see `LSTMCell.backwardBatched`).
    public var stepRows: UnsafeMutablePointer<T>
    /// `[n, H]` each: dLoss/dh(t) and an LSTM's dLoss/dc(t) through the next step, per packed sentence.
    public var dhNext: UnsafeMutablePointer<T>
    public var dcNext: UnsafeMutablePointer<T>
    /// W_hhᵀ `[H, G]` in `Kernels.packPanels` layout for the forward product, and W_hh `[G, H]` for the backward one
    /// (each read only by its own pass); an LSTM's as `LSTMCell.packForwardPanels` and `packBackwardPanels`
    /// lay them out for the units this member's thread computes.
    public var forwardPanels: UnsafePointer<T>
    public var backwardPanels: UnsafePointer<T>

    public init(
        packing: RecurrencePacking, packedHidden: UnsafeMutablePointer<T>, stepRows: UnsafeMutablePointer<T>,
        dhNext: UnsafeMutablePointer<T>, dcNext: UnsafeMutablePointer<T>,
        forwardPanels: UnsafePointer<T>, backwardPanels: UnsafePointer<T>
    ) {
        self.forwardPanels = forwardPanels
        self.backwardPanels = backwardPanels
        self.packing = packing
        self.packedHidden = packedHidden
        self.stepRows = stepRows
        self.dhNext = dhNext
        self.dcNext = dcNext
    }

    /// At step s: keeps h(t−1) of each active sentence in row t of `previousHidden`
    /// (zeros at the first step), by token, for the caller's dW_hh GEMM.
    @inline(__always)
    func keepPreviousHidden(step s: Int, active: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        for row in 0..<active {
            let target = b.previousHidden + packing.token(step: s, row: row, reverse: reverse) * H
            if s > 0 {
                target.update(from: packedHidden + (packing.stepStart(s - 1) + row) * H, count: H)
            } else {
                target.update(repeating: 0, count: H)
            }
        }
    }

    /// Copies step s's packed h(t) to the caller's `hidden`, by token.
    @inline(__always)
    func scatterHidden(step s: Int, active: Int, hiddenSize H: Int, reverse: Bool, _ b: RecurrenceBuffers<T>) {
        let first = packing.stepStart(s)
        for row in 0..<active {
            let t = packing.token(step: s, row: row, reverse: reverse)
            (b.hidden + t * b.hiddenStride).update(from: packedHidden + (first + row) * H, count: H)
        }
    }

    /// Zeroes rows `from..<to` of `dhNext` (and `dcNext` when `cell`): sentences whose last step
    /// is this one get no gradient from later steps.
    @inline(__always)
    func clearCarried(rows: Range<Int>, hiddenSize H: Int, cell: Bool) {
        guard !rows.isEmpty else { return }
        (dhNext + rows.lowerBound * H).update(repeating: 0, count: rows.count * H)
        if cell { (dcNext + rows.lowerBound * H).update(repeating: 0, count: rows.count * H) }
    }
}

/// One shard's part in a batched recurrence: its by-token buffers and its packed rows.
public struct RecurrenceMember<T: Scalar> {
    public var buffers: RecurrenceBuffers<T>
    public var batch: BatchedRecurrenceBuffers<T>

    public init(buffers: RecurrenceBuffers<T>, batch: BatchedRecurrenceBuffers<T>) {
        self.buffers = buffers
        self.batch = batch
    }
}

/// Who computes what in a batched LSTM recurrence shared by the threads of a
/// `ThreadTeam` (the cooperative recurrence): each thread computes the hidden
/// units `units` — their four gate columns, cell and hidden values — of every
/// member's sentences, step by step, with one barrier per step; then the
/// by-token copies of its own member's rows. A thread reads only its own part
/// of W_hh (`forwardPanels`/`backwardPanels` of its own member, packed for its
/// units), so at LSTM 400 each core keeps half of the 2.56 MB matrix in its own
/// 2 MB L2 instead of both streaming all of it from L3 at every step.
///
/// Every value is computed by the same arithmetic whoever computes it (each
/// output of the panel product is one chain over its inner dimension, the
/// pointwise kernels are elementwise), so a cooperative run gives the same
/// bits as each member alone: the team changes the speed, never the result.
public struct RecurrenceShare<T: Scalar> {
    /// Every member's parts, `[memberCount]`; read only between the barriers that bracket a call.
    public var members: UnsafePointer<RecurrenceMember<T>>
    public var memberCount: Int
    /// This thread's member: its rows get their by-token copies here, its panels are used.
    public var member: Int
    /// The hidden units this thread computes, a range of 0..<H.
    public var units: Range<Int>
    /// nil when the member runs alone (`memberCount` 1, all units).
    public var team: ThreadTeam?

    public init(members: UnsafePointer<RecurrenceMember<T>>, memberCount: Int, member: Int, units: Range<Int>, team: ThreadTeam?) {
        self.members = members
        self.memberCount = memberCount
        self.member = member
        self.units = units
        self.team = team
    }

    /// Waits for every member (no-op alone).
    @inline(__always)
    func meet() { team?.barrier(member: member) }

    /// The longest sentence of any member: the steps every thread runs.
    var longest: Int {
        var longest = 0
        for index in 0..<memberCount { longest = max(longest, members[index].batch.packing.longest) }
        return longest
    }

    /// The units member `member` of `count` computes: whole 16-wide panels (the last may be short),
    /// split as evenly as panels allow, so no panel is computed twice.
    public static func units(member: Int, of count: Int, hiddenSize H: Int) -> Range<Int> {
        let panels = (H + Kernels.panelWidth - 1) / Kernels.panelWidth
        func boundary(_ index: Int) -> Int { min(H, panels * index / count * Kernels.panelWidth) }
        return boundary(member)..<boundary(member + 1)
    }
}
