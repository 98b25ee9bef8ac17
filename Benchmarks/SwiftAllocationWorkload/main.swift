// A Swift allocation workload, built without the agent: class instances, arrays, dictionaries and
// strings, the way a server's request handling allocates. AllocatorBenchmark runs it as is and
// with libLeakAgentPreload.so preloaded. Prints `nanoseconds=<wall-clock ns of the work>`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

final class Request {
    let identifier: Int
    var headers: [String: String]
    var body: [UInt8]
    var next: Request?

    init(identifier: Int, headers: [String: String], body: [UInt8]) {
        self.identifier = identifier
        self.headers = headers
        self.body = body
    }
}

struct Response {
    var status: Int
    var lines: [String]
}

@inline(never)
func handle(_ request: Request) -> Response {
    var lines: [String] = []
    lines.reserveCapacity(request.headers.count + 1)
    for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
        lines.append("\(name): \(value)")
    }
    lines.append("content-length: \(request.body.count)")
    return Response(status: request.body.count % 7 == 0 ? 404 : 200, lines: lines)
}

@inline(never)
func workload(rounds: Int) -> Int {
    var checksum = 0
    var cache: [Int: Request] = [:]
    for round in 0..<rounds {
        let headers = [
            "host": "web-\(round % 17).example.com",
            "user-agent": "bench/\(round % 5)",
            "x-request-id": String(round, radix: 16),
        ]
        let request = Request(identifier: round, headers: headers, body: [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: 64 + round % 900))
        request.next = cache[round % 512]
        let response = handle(request)
        checksum &+= response.lines.reduce(0) { $0 &+ $1.utf8.count } &+ response.status
        cache[round % 512] = Request(identifier: round, headers: [:], body: [])
    }
    return checksum &+ cache.count
}

func nanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
let begin = nanoseconds()
let checksum = workload(rounds: rounds)
let elapsed = nanoseconds() - begin
print("nanoseconds=\(elapsed) checksum=\(checksum)")
