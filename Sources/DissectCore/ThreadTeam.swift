import COpenBLAS
import Foundation
import Synchronization

/// A fixed team of threads that run one body together and can meet at a
/// barrier inside it: member 0 is the calling thread, members 1… are threads
/// the team owns for its whole life. Unlike `parallelFor`, every member is
/// guaranteed its own thread while `run` lasts, so a body may wait for
/// another member (`barrier`) without deadlocking, on any number of cores.
///
/// Used where two cores share one piece of work step by step (the cooperative
/// batched recurrence); results never depend on the team, which only decides
/// who computes what.
public final class ThreadTeam: @unchecked Sendable {
    /// The number of members, at least 1.
    public let size: Int
    private let workers: [Worker]
    private let arrivals: [Arrival]

    /// - Parameter size: members, from 1 (no thread is started) to 64.
    public init(size: Int) {
        precondition((1...64).contains(size), "ThreadTeam size \(size) is outside 1...64")
        self.size = size
        arrivals = (0..<size).map { _ in Arrival() }
        workers = (1..<max(size, 1)).map { Worker(member: $0) }
    }

    deinit {
        for worker in workers { worker.stop() }
    }

    /// Runs `body(member)` for every member at once, member 0 on the calling
    /// thread, and returns when all have returned. Calls must not nest.
    public func run(_ body: (Int) -> Void) { run(members: size, body) }

    /// Runs `body(member)` for members 0..<`members` only (1 … `size`; the other threads stay idle),
    /// member 0 on the calling thread. Calls must not nest; a barrier needs all `size` members.
    public func run(members: Int, _ body: (Int) -> Void) {
        precondition((1...size).contains(members), "ThreadTeam.run: \(members) members of \(size)")
        if members == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in
            // Each member only touches what the caller's contract gives it (see `parallelFor`).
            nonisolated(unsafe) let job = body
            for worker in workers.prefix(members - 1) { worker.start(job) }
            job(0)
            for worker in workers.prefix(members - 1) { worker.finish() }
        }
    }

    /// Waits until every member has called `barrier` as many times as `member`
    /// has now. Writes before a member's call are visible to every member after
    /// theirs. Every member must call it the same number of times.
    ///
    /// It spins `spinsBeforeYield` times (about half a millisecond on this project's
    /// Xeon, where `pause` takes about 140 cycles) before it yields: the members meet
    /// every few tens of microseconds, and a thread that yields early hands its core
    /// to whatever else runs on the machine for a whole time slice (measured: a shared
    /// LSTM 200 trained about a third slower than unshared with the yield after 2,000
    /// spins, beside a compiler at nice 19). Yielding at last keeps an oversubscribed machine moving.
    @inline(__always)
    public func barrier(member: Int) {
        guard size > 1 else { return }
        let mine = arrivals[member].count.add(1, ordering: .releasing).newValue
        for other in 0..<size where other != member {
            var spins = 0
            while arrivals[other].count.load(ordering: .acquiring) < mine {
                spins += 1
                if spins > Self.spinsBeforeYield { sched_yield() } else { dissect_spin_pause() }
            }
        }
    }

    /// Spin-wait iterations (`pause` each, tens of nanoseconds) before the barrier yields its core.
    static let spinsBeforeYield = 10_000

    /// One member's barrier count, on its own cache line.
    private final class Arrival: @unchecked Sendable {
        let count = Atomic<Int>(0)
        // Padding so two members' counters never share a 64-byte line.
        private let padding: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
    }

    /// Spin-wait iterations before a team thread waiting for its next job, or the caller
    /// waiting for a worker to finish, goes to sleep on a semaphore: about 1 ms. A trainer
    /// hands its worker a job every batch (about every millisecond at hidden 50), and waking
    /// a sleeping thread on this project's virtual machine took long enough that the caller
    /// had mostly run both shards itself by then (an epoch at hidden 25 measured 1.62 s with
    /// two threads and 1.45 s with one; see `Worker`).
    static let spinsBeforeSleep = 20_000

    /// A thread that runs member `member`'s share of each `run`.
    ///
    /// The hand-off either way is a generation counter that the waiting side spins on
    /// (`spinsBeforeSleep`), then sleeps on a semaphore after announcing it (`…Sleeping`);
    /// the other side signals only when it sees that announcement. Both sides use
    /// sequentially consistent operations (store the flag, then load the counter; store the
    /// counter, then load the flag), so at least one of them sees the other's store: a
    /// sleeper is always woken. A signal that finds the sleeper already awake leaves the
    /// semaphore one ahead, which only makes a later wait recheck the counter and spin again.
    private final class Worker: @unchecked Sendable {
        let member: Int
        private let go = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)
        /// Jobs posted by the caller and jobs finished by the worker, counted from 0.
        private let posted = Atomic<Int>(0)
        private let finished = Atomic<Int>(0)
        private let workerSleeping = Atomic<Bool>(false)
        private let callerSleeping = Atomic<Bool>(false)
        private nonisolated(unsafe) var job: ((Int) -> Void)?
        private nonisolated(unsafe) var stopping = false

        init(member: Int) {
            self.member = member
            let thread = Thread { [self] in loop() }
            thread.name = "dissect-team-\(member)"
            thread.start()
        }

        /// Waits until `counter` passes `value`: spins, then sleeps on `semaphore` with `sleeping` raised.
        private static func wait(
            until counter: borrowing Atomic<Int>, exceeds value: Int, sleeping: borrowing Atomic<Bool>, on semaphore: DispatchSemaphore
        ) {
            var spins = 0
            while counter.load(ordering: .acquiring) <= value {
                if spins < ThreadTeam.spinsBeforeSleep {
                    spins += 1
                    dissect_spin_pause()
                    continue
                }
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if counter.load(ordering: .sequentiallyConsistent) <= value { semaphore.wait() }
                sleeping.store(false, ordering: .sequentiallyConsistent)
            }
        }

        private func loop() {
            var seen = 0
            while true {
                Self.wait(until: posted, exceeds: seen, sleeping: workerSleeping, on: go)
                seen += 1
                if stopping { return }
                job?(member)
                job = nil
                finished.store(seen, ordering: .sequentiallyConsistent)
                if callerSleeping.load(ordering: .sequentiallyConsistent) { done.signal() }
            }
        }

        /// Posts `body` (or the stop request) as the next job.
        private func post() {
            posted.add(1, ordering: .sequentiallyConsistent)
            if workerSleeping.load(ordering: .sequentiallyConsistent) { go.signal() }
        }

        func start(_ body: @escaping (Int) -> Void) {
            job = body
            post()
        }

        func finish() {
            Self.wait(until: finished, exceeds: posted.load(ordering: .relaxed) - 1, sleeping: callerSleeping, on: done)
        }

        func stop() {
            stopping = true
            post()
        }
    }
}
