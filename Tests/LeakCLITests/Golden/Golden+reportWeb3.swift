// Golden output for reportWeb3. Regenerate: UPDATE_GOLDEN=1 swift test --filter LeakCLITests
extension Golden {
    static let reportWeb3 = #"""
web-3  SUSPECTED LEAK  +20.0 MiB/h since 2026-03-02 06:00 UTC (6h ago), confidence 97%
service checkout · floor rises in both process instances; 1 growing site(s)

Memory  latest snapshot 2026-03-02 11:55 UTC (5m ago), uptime 2h 55m
  heap in use  240.3 MiB         peak         248.3 MiB         RSS          360.3 MiB
  allocated    1.6 GiB           allocations  9,001,000         frees        8,963,000
  outstanding  38,000 blocks

Heap and RSS  72 points over 5h 55m, 1 restart
  360.3 MiB ┤                                · ······┊                                ·······
            │                   ············· ·      ┊                 · ·············
            │       ············                     ┊     ············ ·
            │·······                                 ······
            │                                        ┊
  260.1 MiB ┤                                        ┊
            │                                * ******┊                                *******
            │                   ************* *      ┊                 * *************
            │       ************                     ┊     ************ *
  180.0 MiB ┼*******                                 ******
                                                     ^
             06:00                                 08:57                                11:55
             * heap in use   · RSS   ^ process restart

Growing sites  1 of 3 sampled sites
  1.  +20.0 MiB/h  SUSPECTED LEAK  live 60.3 MiB in 123,562 objects  type Checkout.Session
        at Checkout.Session.__allocating_init(id:cart:) (Session.swift:14)
        at Checkout.SessionCache.insert(_:) (SessionCache.swift:42)
        at Checkout.CheckoutHandler.handle(_:context:) (CheckoutHandler.swift:88)
        at NIOCore.ChannelHandlerContext.fireChannelRead(_:) (ChannelPipeline.swift:1712)

Top allocation sizes  by count since process start
        32 B  5,400,000 allocations              1.0 KiB  432,000 allocations
        48 B  4,320,000 allocations              4.0 KiB  108,000 allocations
        64 B  3,240,000 allocations

Recent events  newest first, times UTC
  03-02 11:00:00  dropped data: 3 snapshots lost: spool full while the collector was unreachable
  03-02 07:40:00  warning: heap 213.3 MiB crossed the threshold 200.0 MiB: heap above warning thres…
"""#
}
