import Foundation

/// The signal that asked dissect to stop (SIGINT or SIGTERM), or 0. A plain
/// global set from the handler: nothing else is safe inside a signal handler.
nonisolated(unsafe) public var dissectInterruptSignal: Int32 = 0

/// Ctrl-C and `kill` stop long runs (training, reproduce) between steps,
/// never in the middle of a file write, so every checkpoint and result on
/// disk stays whole. A second signal quits at once; files are still whole,
/// since each is written to a temporary name and renamed.
public enum Interruption {
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { number in
            if dissectInterruptSignal != 0 { _exit(130) }
            dissectInterruptSignal = number
            let message: StaticString = "\nstopping after the current step; press Ctrl-C again to quit at once\n"
            _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked (Foundation's
        // Process passes its thread's mask on); take delivery on this thread.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    public static var requested: Bool { dissectInterruptSignal != 0 }

    public static var signalName: String {
        dissectInterruptSignal == SIGTERM ? "SIGTERM" : "SIGINT"
    }
}
