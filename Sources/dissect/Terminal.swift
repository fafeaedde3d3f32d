import Foundation

/// Progress on a terminal (a redrawn bar), plain lines otherwise.
enum Terminal {
    nonisolated(unsafe) static var lineOpen = false
    static let isInteractive = isatty(STDERR_FILENO) != 0

    static func log(_ text: String) {
        finishLine()
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func warn(_ text: String) { log("warning: " + text) }

    /// Redraws the current line (terminals only).
    static func status(_ text: String) {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
        lineOpen = true
    }

    static func finishLine() {
        if lineOpen {
            FileHandle.standardError.write(Data("\n".utf8))
            lineOpen = false
        }
    }

    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}

func format(_ value: Double, _ digits: Int = 2) -> String {
    String(format: "%.\(digits)f", value)
}
