// leakwatch-symbolizer: resolves a watched process's return addresses to frames for its agent.
//
// The agent starts it with a request on stdin (the process's loaded images and the addresses, see
// SymbolizerExchange) and reads the frames from stdout. The debug information it reads to answer,
// tens of megabytes for a large binary, lives and dies with this process instead of staying in
// the one being watched.
import LeakSymbolication
#if canImport(Glibc)
import Glibc
#endif

func readAll(_ descriptor: Int32) -> [UInt8]? {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count == 0 { return bytes }
        if count < 0 {
            if errno == EINTR { continue }
            return nil
        }
        bytes += chunk.prefix(count)
    }
}

func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
    var written = 0
    while written < bytes.count {
        let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            return false
        }
        written += count
    }
    return true
}

func fail(_ message: String) -> Never {
    _ = writeAll(Array("leakwatch-symbolizer: \(message)\n".utf8), to: STDERR_FILENO)
    exit(1)
}

if CommandLine.arguments.count > 1 {
    fail("takes no arguments: the Leakwatch agent runs it with a request on stdin")
}
guard let input = readAll(STDIN_FILENO) else { fail("cannot read stdin: errno \(errno)") }
let request: SymbolizationRequest
do {
    request = try SymbolizerExchange.decodeRequest(input)
} catch {
    fail("\(error)")
}
let images = ProcessImages(images: request.images)
let answer = request.addresses.map { Symbolication.frames(forReturnAddress: $0, in: images) }
guard writeAll(SymbolizerExchange.encode(answer: answer), to: STDOUT_FILENO) else { fail("cannot write stdout: errno \(errno)") }
