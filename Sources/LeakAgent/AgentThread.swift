import CLeakTrackAPI
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
        let status = create(&thread, { context in
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

    /// `pthread_create` for a thread that starts with every signal blocked except the faults, as
    /// jemalloc's background threads do. A signal sent to the process then goes to one of the
    /// application's threads, never to the agent's: an application that blocks SIGTERM everywhere
    /// and waits for it with `sigwait` in one thread still receives it, wherever the agent was
    /// started. Faults stay unblocked because the kernel kills a thread that faults with them
    /// blocked without running any handler: a crash reporter or Swift's backtracer must still see
    /// a crash on an agent thread. The calling thread's mask is restored before this returns.
    static func create(_ thread: inout pthread_t,
                       _ start: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?,
                       _ argument: UnsafeMutableRawPointer) -> Int32 {
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        for fault in faultSignals { sigdelset(&all, fault) }
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return pthread_create(&thread, nil, start, argument)
    }

    /// The signals a thread raises on itself by faulting.
    static let faultSignals = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS]
}
