// Golden output for reportWeb3JSON. Regenerate: UPDATE_GOLDEN=1 swift test --filter LeakCLITests
extension Golden {
    static let reportWeb3JSON = #"""
{
  "schemaVersion": 1,
  "host": "web-3",
  "service": "checkout",
  "generatedAt": "2026-03-02T12:00:00Z",
  "windowStart": "2026-03-02T06:00:00Z",
  "verdict": {
    "status": "suspected-leak",
    "rateBytesPerHour": 20971520,
    "since": "2026-03-02T06:00:00Z",
    "confidence": 0.97,
    "explanation": "floor rises in both process instances; 1 growing site(s)",
    "responsibleStackIds": [
      1
    ]
  },
  "latest": {
    "time": "2026-03-02T11:55:00Z",
    "currentBytes": 252007765,
    "peakBytes": 260396373,
    "rssBytes": 377836885,
    "totalAllocatedBytes": 1761957205,
    "allocationCount": 9001000,
    "freeCount": 8963000,
    "blocksOutstanding": 38000,
    "uptimeSeconds": 10500
  },
  "series": [
    {
      "time": "2026-03-02T06:00:00Z",
      "currentBytes": 188743680,
      "rssBytes": 314572800,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:05:00Z",
      "currentBytes": 192588458,
      "rssBytes": 318417578,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:10:00Z",
      "currentBytes": 196433237,
      "rssBytes": 322262357,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:15:00Z",
      "currentBytes": 195035136,
      "rssBytes": 320864256,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:20:00Z",
      "currentBytes": 198879914,
      "rssBytes": 324709034,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:25:00Z",
      "currentBytes": 197481813,
      "rssBytes": 323310933,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:30:00Z",
      "currentBytes": 201326592,
      "rssBytes": 327155712,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:35:00Z",
      "currentBytes": 205171370,
      "rssBytes": 331000490,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:40:00Z",
      "currentBytes": 203773269,
      "rssBytes": 329602389,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:45:00Z",
      "currentBytes": 207618048,
      "rssBytes": 333447168,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:50:00Z",
      "currentBytes": 206219946,
      "rssBytes": 332049066,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T06:55:00Z",
      "currentBytes": 210064725,
      "rssBytes": 335893845,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:00:00Z",
      "currentBytes": 213909504,
      "rssBytes": 339738624,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:05:00Z",
      "currentBytes": 212511402,
      "rssBytes": 338340522,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:10:00Z",
      "currentBytes": 216356181,
      "rssBytes": 342185301,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:15:00Z",
      "currentBytes": 214958080,
      "rssBytes": 340787200,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:20:00Z",
      "currentBytes": 218802858,
      "rssBytes": 344631978,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:25:00Z",
      "currentBytes": 222647637,
      "rssBytes": 348476757,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:30:00Z",
      "currentBytes": 221249536,
      "rssBytes": 347078656,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:35:00Z",
      "currentBytes": 225094314,
      "rssBytes": 350923434,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:40:00Z",
      "currentBytes": 223696213,
      "rssBytes": 349525333,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:45:00Z",
      "currentBytes": 227540992,
      "rssBytes": 353370112,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:50:00Z",
      "currentBytes": 231385770,
      "rssBytes": 357214890,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T07:55:00Z",
      "currentBytes": 229987669,
      "rssBytes": 355816789,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:00:00Z",
      "currentBytes": 233832448,
      "rssBytes": 359661568,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:05:00Z",
      "currentBytes": 232434346,
      "rssBytes": 358263466,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:10:00Z",
      "currentBytes": 236279125,
      "rssBytes": 362108245,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:15:00Z",
      "currentBytes": 240123904,
      "rssBytes": 365953024,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:20:00Z",
      "currentBytes": 238725802,
      "rssBytes": 364554922,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:25:00Z",
      "currentBytes": 242570581,
      "rssBytes": 368399701,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:30:00Z",
      "currentBytes": 241172480,
      "rssBytes": 367001600,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:35:00Z",
      "currentBytes": 245017258,
      "rssBytes": 370846378,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:40:00Z",
      "currentBytes": 248862037,
      "rssBytes": 374691157,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:45:00Z",
      "currentBytes": 247463936,
      "rssBytes": 373293056,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:50:00Z",
      "currentBytes": 251308714,
      "rssBytes": 377137834,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T08:55:00Z",
      "currentBytes": 249910613,
      "rssBytes": 375739733,
      "processInstance": "1112131415161718191a1b1c1d1e1f20"
    },
    {
      "time": "2026-03-02T09:00:00Z",
      "currentBytes": 190840832,
      "rssBytes": 316669952,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:05:00Z",
      "currentBytes": 194685610,
      "rssBytes": 320514730,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:10:00Z",
      "currentBytes": 193287509,
      "rssBytes": 319116629,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:15:00Z",
      "currentBytes": 197132288,
      "rssBytes": 322961408,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:20:00Z",
      "currentBytes": 195734186,
      "rssBytes": 321563306,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:25:00Z",
      "currentBytes": 199578965,
      "rssBytes": 325408085,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:30:00Z",
      "currentBytes": 203423744,
      "rssBytes": 329252864,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:35:00Z",
      "currentBytes": 202025642,
      "rssBytes": 327854762,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:40:00Z",
      "currentBytes": 205870421,
      "rssBytes": 331699541,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:45:00Z",
      "currentBytes": 204472320,
      "rssBytes": 330301440,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:50:00Z",
      "currentBytes": 208317098,
      "rssBytes": 334146218,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T09:55:00Z",
      "currentBytes": 212161877,
      "rssBytes": 337990997,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:00:00Z",
      "currentBytes": 210763776,
      "rssBytes": 336592896,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:05:00Z",
      "currentBytes": 214608554,
      "rssBytes": 340437674,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:10:00Z",
      "currentBytes": 213210453,
      "rssBytes": 339039573,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:15:00Z",
      "currentBytes": 217055232,
      "rssBytes": 342884352,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:20:00Z",
      "currentBytes": 220900010,
      "rssBytes": 346729130,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:25:00Z",
      "currentBytes": 219501909,
      "rssBytes": 345331029,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:30:00Z",
      "currentBytes": 223346688,
      "rssBytes": 349175808,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:35:00Z",
      "currentBytes": 221948586,
      "rssBytes": 347777706,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:40:00Z",
      "currentBytes": 225793365,
      "rssBytes": 351622485,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:45:00Z",
      "currentBytes": 229638144,
      "rssBytes": 355467264,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:50:00Z",
      "currentBytes": 228240042,
      "rssBytes": 354069162,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T10:55:00Z",
      "currentBytes": 232084821,
      "rssBytes": 357913941,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:00:00Z",
      "currentBytes": 230686720,
      "rssBytes": 356515840,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:05:00Z",
      "currentBytes": 234531498,
      "rssBytes": 360360618,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:10:00Z",
      "currentBytes": 238376277,
      "rssBytes": 364205397,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:15:00Z",
      "currentBytes": 236978176,
      "rssBytes": 362807296,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:20:00Z",
      "currentBytes": 240822954,
      "rssBytes": 366652074,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:25:00Z",
      "currentBytes": 239424853,
      "rssBytes": 365253973,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:30:00Z",
      "currentBytes": 243269632,
      "rssBytes": 369098752,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:35:00Z",
      "currentBytes": 247114410,
      "rssBytes": 372943530,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:40:00Z",
      "currentBytes": 245716309,
      "rssBytes": 371545429,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:45:00Z",
      "currentBytes": 249561088,
      "rssBytes": 375390208,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:50:00Z",
      "currentBytes": 248162986,
      "rssBytes": 373992106,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    },
    {
      "time": "2026-03-02T11:55:00Z",
      "currentBytes": 252007765,
      "rssBytes": 377836885,
      "processInstance": "22232425262728292a2b2c2d2e2f3031"
    }
  ],
  "restarts": [
    "2026-03-02T09:00:00Z"
  ],
  "growingSites": [
    1
  ],
  "sites": [
    {
      "stackId": 1,
      "status": "suspected-leak",
      "rateBytesPerHour": 20971520,
      "liveBytes": 63264085,
      "liveObjects": 123562,
      "allocatedBytes": 227540991,
      "typeName": "Checkout.Session",
      "frames": [
        {
          "function": "Checkout.Session.__allocating_init(id:cart:)",
          "file": "/src/Sources/Checkout/Session.swift",
          "line": 14,
          "image": "checkout-server",
          "address": "0x55a000001a20",
          "inlined": false
        },
        {
          "function": "Checkout.SessionCache.insert(_:)",
          "file": "/src/Sources/Checkout/SessionCache.swift",
          "line": 42,
          "image": "checkout-server",
          "address": "0x55a000002b44",
          "inlined": false
        },
        {
          "function": "Checkout.CheckoutHandler.handle(_:context:)",
          "file": "/src/Sources/Checkout/CheckoutHandler.swift",
          "line": 88,
          "image": "checkout-server",
          "address": "0x55a000003c10",
          "inlined": false
        },
        {
          "function": "NIOCore.ChannelHandlerContext.fireChannelRead(_:)",
          "file": "/build/swift-nio/Sources/NIOCore/ChannelPipeline.swift",
          "line": 1712,
          "image": "checkout-server",
          "address": "0x55a000100400",
          "inlined": false
        }
      ]
    },
    {
      "stackId": 2,
      "status": "ok",
      "rateBytesPerHour": 0,
      "liveBytes": 33554432,
      "liveObjects": 65536,
      "allocatedBytes": 138412032,
      "typeName": null,
      "frames": [
        {
          "function": "NIOCore.ByteBufferAllocator.buffer(capacity:)",
          "file": "/build/swift-nio/Sources/NIOCore/ByteBuffer-core.swift",
          "line": 221,
          "image": "checkout-server",
          "address": "0x55a000109000",
          "inlined": false
        },
        {
          "function": "Checkout.ResponseWriter.write(_:)",
          "file": "/src/Sources/Checkout/ResponseWriter.swift",
          "line": 31,
          "image": "checkout-server",
          "address": "0x55a000004d00",
          "inlined": false
        }
      ]
    },
    {
      "stackId": 3,
      "status": "ok",
      "rateBytesPerHour": 0,
      "liveBytes": 4194304,
      "liveObjects": 8192,
      "allocatedBytes": 50331648,
      "typeName": null,
      "frames": [
        {
          "function": "Foundation.JSONDecoder.decode<A>(_:from:)",
          "file": "",
          "line": 0,
          "image": "libFoundation.so",
          "address": "0x7f1000200000",
          "inlined": false
        },
        {
          "function": "Checkout.CartParser.parse(_:)",
          "file": "/src/Sources/Checkout/CartParser.swift",
          "line": 19,
          "image": "checkout-server",
          "address": "0x55a000005e00",
          "inlined": false
        }
      ]
    }
  ],
  "topSizes": [
    {
      "sizeBytes": 48,
      "count": 4320000
    },
    {
      "sizeBytes": 64,
      "count": 3240000
    },
    {
      "sizeBytes": 1024,
      "count": 432000
    },
    {
      "sizeBytes": 4096,
      "count": 108000
    },
    {
      "sizeBytes": 32,
      "count": 5400000
    }
  ],
  "sizeClasses": [
    {
      "upperBoundBytes": 64,
      "count": 12960000,
      "bytes": 414720000
    },
    {
      "upperBoundBytes": 1024,
      "count": 432000,
      "bytes": 221184000
    },
    {
      "upperBoundBytes": 9223372036854775807,
      "count": 108000,
      "bytes": 221184000
    }
  ],
  "events": [
    {
      "time": "2026-03-02T11:00:00Z",
      "kind": "snapshots-dropped",
      "valueBytes": 0,
      "thresholdBytes": 0,
      "droppedCount": 3,
      "message": "spool full while the collector was unreachable"
    },
    {
      "time": "2026-03-02T07:40:00Z",
      "kind": "threshold-warning",
      "valueBytes": 223696213,
      "thresholdBytes": 209715200,
      "droppedCount": 0,
      "message": "heap above warning threshold"
    }
  ],
  "memoryErrors": []
}
"""#
}
