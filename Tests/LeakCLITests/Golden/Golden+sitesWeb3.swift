// Golden output for sitesWeb3. Regenerate: UPDATE_GOLDEN=1 swift test --filter LeakCLITests
extension Golden {
    static let sitesWeb3 = #"""
web-3  3 sampled allocation sites, fastest growing first
  1.  +20.0 MiB/h  SUSPECTED LEAK  live 60.3 MiB in 123,562 objects  type Checkout.Session
        at Checkout.Session.__allocating_init(id:cart:) (Session.swift:14)
        at Checkout.SessionCache.insert(_:) (SessionCache.swift:42)
        … 2 more frames
  2.        0 B/h  OK              live 32.0 MiB in 65,536 objects
        at NIOCore.ByteBufferAllocator.buffer(capacity:) (ByteBuffer-core.swift:221)
        at Checkout.ResponseWriter.write(_:) (ResponseWriter.swift:31)
  3.        0 B/h  OK              live 4.0 MiB in 8,192 objects
        at Foundation.JSONDecoder.decode<A>(_:from:) (libFoundation.so)
        at Checkout.CartParser.parse(_:) (CartParser.swift:19)
"""#
}
