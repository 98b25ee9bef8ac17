import Foundation

/// Standard output for a command that keeps running (`hosts --watch`): written as it goes, not
/// returned at the end, and a stop request (SIGINT in the real process) that ends the wait
/// between two redraws at once.
public final class LiveOutput: @unchecked Sendable {
    private let writeBytes: @Sendable ([UInt8]) -> Void
    private let stopped = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var isStopped = false
    private let stopsOnInterrupt: Bool
    private var interruptSource: DispatchSourceSignal?

    /// `stopsOnInterrupt`: once a command starts running (`startRunning()`), SIGINT stops it
    /// instead of killing the process, so a full-screen redraw can give the terminal back as it
    /// found it. Commands that answer once never ask, and Ctrl-C ends them as usual.
    public init(stopsOnInterrupt: Bool = false, write: @escaping @Sendable ([UInt8]) -> Void) {
        self.stopsOnInterrupt = stopsOnInterrupt
        writeBytes = write
    }

    func startRunning() {
        lock.lock()
        defer { lock.unlock() }
        guard stopsOnInterrupt, interruptSource == nil else { return }
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in self?.stop() }
        source.resume()
        interruptSource = source
    }

    public func write(_ text: String) { writeBytes(Array(text.utf8)) }

    /// Ends the current wait and every later one.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !isStopped else { return }
        isStopped = true
        stopped.signal()
    }

    public var stopRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return isStopped
    }

    /// Waits `seconds`, or less when stopped; true when stopped.
    public func wait(seconds: Double) -> Bool {
        if stopRequested { return true }
        if stopped.wait(timeout: .now() + seconds) == .success {
            stopped.signal()  // later waits return at once too
            return true
        }
        return false
    }

    /// The real process: standard output, stopped by SIGINT.
    public static func process() -> LiveOutput {
        LiveOutput(stopsOnInterrupt: true) { bytes in FileHandle.standardOutput.write(Data(bytes)) }
    }
}
