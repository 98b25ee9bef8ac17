// leakwatch-symbolizer: resolves a watched process's return addresses to frames for its agent.
//
// The agent starts it with one end of a stream socket as stdin and stdout, and sends requests
// (the process's loaded images and the addresses, see SymbolizerExchange) as SymbolizerChannel
// messages, one answer each. The debug information read to answer, tens of megabytes for a large
// binary, lives in this process and is kept for the next request; after `idleSeconds` without
// one, or when the agent closes its end, it exits and gives it all back.
import LeakDebugInfo
import LeakSymbolication
#if canImport(Glibc)
import Glibc
#endif

let idleSeconds = 30

func fail(_ message: String) -> Never {
    let line = Array("leakwatch-symbolizer: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

if CommandLine.arguments.count > 1 {
    fail("takes no arguments: the Leakwatch agent runs it with a socket as stdin and stdout")
}
let agent = SymbolizerChannel(descriptor: STDIN_FILENO)
agent.setTimeout(seconds: idleSeconds)
while let message = agent.receive() {
    let request: SymbolizationRequest
    do {
        request = try SymbolizerExchange.decodeRequest(message)
    } catch {
        fail("\(error)")
    }
    let tables = SymbolTables(ProcessImages(images: request.images))
    let answer = request.addresses.map(tables.frames(forReturnAddress:))
    guard agent.send(SymbolizerExchange.encode(answer: answer)) else { fail("the agent is gone") }
}
