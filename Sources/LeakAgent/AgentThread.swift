import CLeakTrack
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A plain pthread for the agent's background work: never the application's event loops or the
/// Swift concurrency executor. The thread marks itself as the agent's, so what it allocates is
/// counted apart from the application.
enum AgentThread {
    private final class Body: @unchecked Sendable {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, _ run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    @discardableResult
    static func spawn(name: String, _ run: @escaping @Sendable () -> Void) -> pthread_t? {
        let body = Unmanaged.passRetained(Body(name: name, run)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            lt_thread_mark_agent()
            lt_thread_set_name(body.name)
            body.run()
            return nil
        }, body)
        guard status == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            return nil
        }
        return thread
    }
}
