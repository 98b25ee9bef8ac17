import NIOCore
import NIOPosix

/// The threads a collector runs on: event loops for its connections (framing, validation,
/// translation) and a thread pool for its blocking store work (Welcome's resume point, queries,
/// the metrics page).
///
/// By default NIO's process-wide singletons, one thread per core each, which is right for the
/// `collector` executable: one collector per process. A process that runs several collectors
/// (the test suite runs dozens at once) gives each its own (`ownThreads`), so that one
/// collector's burst of work cannot queue another's connections behind it: the kernel then
/// shares the cores among their threads instead.
struct CollectorThreads: Sendable {
    let group: any EventLoopGroup
    let threadPool: NIOThreadPool
    /// Created for this collector, shut down when it stops.
    private let owned: (group: MultiThreadedEventLoopGroup?, threadPool: NIOThreadPool?)

    init(eventLoopThreads: Int, ownThreads: Bool) {
        let group = ownThreads || eventLoopThreads != System.coreCount
            ? MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads) : nil
        let threadPool = ownThreads ? NIOThreadPool(numberOfThreads: Self.ownThreadPoolSize) : nil
        threadPool?.start()
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.threadPool = threadPool ?? .singleton
        self.owned = (group, threadPool)
    }

    /// Two threads: a query may wait on the store while a Welcome needs it.
    static let ownThreadPoolSize = 2

    /// Stops the threads this collector created (never the singletons); after the server stopped.
    func shutdown() async {
        try? await owned.threadPool?.shutdownGracefully()
        try? await owned.group?.shutdownGracefully()
    }
}
