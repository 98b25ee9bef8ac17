/// Redraws a command's output every interval until stopped, as `watch` and `kubectl top` do.
///
/// On a terminal each redraw replaces the last on the alternate screen, which is left on stop
/// so the shell's screen comes back as it was; elsewhere (a pipe, a file) each output follows
/// the last under a timestamped header line.
struct WatchLoop {
    var intervalSeconds: Double
    var fullScreen: Bool
    /// `Every 2s: collector-cli hosts`.
    var title: String

    private static let enterAlternateScreen = "\u{1B}[?1049h\u{1B}[?25l"
    private static let leaveAlternateScreen = "\u{1B}[?25h\u{1B}[?1049l"
    private static let clearScreen = "\u{1B}[H\u{1B}[2J"

    /// `render(now)` is one redraw's text; `now()` the clock in unix nanoseconds.
    func run(output: LiveOutput, now: () -> Int64, render: (Int64) -> String) {
        output.startRunning()
        if fullScreen { output.write(Self.enterAlternateScreen) }
        var first = true
        repeat {
            let time = now()
            let header = title + "  " + Units.rfc3339(unixNanos: time) + "\n\n"
            let text = render(time)
            if fullScreen {
                output.write(Self.clearScreen + header + text)
            } else {
                output.write((first ? "" : "\n") + header + text)
            }
            first = false
        } while !output.wait(seconds: intervalSeconds)
        if fullScreen { output.write(Self.leaveAlternateScreen) }
    }
}
