import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// The host name a peer's verified client certificate carries (nil: it names none), sent down the
/// pipeline once the TLS handshake completes, for the connection's `ServerHandshake`.
struct CertifiedPeer {
    let hostName: String?
}

/// Between TLS and framing. Under mutual TLS, tells the connection handler which host the peer's
/// verified certificate names; on any TLS, logs a failed TLS handshake (wrong CA on either side, no
/// client certificate, a plaintext peer) with the peer's address, since the peer never gets far
/// enough for an Error frame.
final class TLSPeerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let isMutual: Bool
    private let logger: Logger

    init(isMutual: Bool, logger: Logger) {
        self.isMutual = isMutual
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if isMutual, let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
            context.fireUserInboundEventTriggered(CertifiedPeer(hostName: certificate?.hostIdentity))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let tlsError = error as? NIOSSLError else { return context.fireErrorCaught(error) }
        switch tlsError {
        case .handshakeFailed(.sslError(let stack)) where stack.contains(.eofDuringHandshake):
            // A process that exits while its agent connects (a shell's short-lived children, each
            // with an agent of its own) is no misconfiguration: 50 in 80 runs of a bash shim.
            logger.debug("peer closed during the TLS handshake")
        case .handshakeFailed:
            logger.warning(
                "TLS handshake failed: the peer's certificate did not verify, it sent none under mutual TLS, it does not trust this collector's certificate, or it does not speak TLS",
                metadata: ["leak.error": "\(tlsError)"])
        case .uncleanShutdown:
            // The peer closed its socket without TLS's close_notify: an ordinary end for a process
            // that exits.
            logger.debug("TLS peer closed without close_notify")
        default:
            logger.info("TLS failed", metadata: ["leak.error": "\(tlsError)"])
        }
        context.close(promise: nil)
    }
}

extension NIOSSLCertificate {
    /// The host a client certificate is for: its first DNS subject alternative name, else its
    /// (last) common name. `_subjectAlternativeNames` is NIOSSL's, underscored but public.
    var hostIdentity: String? {
        for name in _subjectAlternativeNames() where name.nameType == .dnsName {
            return String(decoding: name.contents, as: UTF8.self)
        }
        return subjectName.last { $0.type == .commonName }?.value
    }
}
