// OpenSSL's libssl (Debian's libssl-dev), for the TLS of the agent's and collector-cli's blocking
// connection. The inline functions wrap macros, which Swift cannot call.
//
// As in CCrypto/shim.h: libssl's headers include libcrypto's, and one module's view of sha.h must
// not mark deprecated what the other uses on purpose.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static inline int leakwatch_tls_require_version_1_3(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
}

static inline int leakwatch_tls_set_server_name(SSL *connection, const char *name) {
    return (int)SSL_set_tlsext_host_name(connection, name);
}

// An empty memory BIO reads as "try again", not as the end of the stream: the ciphertext is still
// on its way.
static inline void leakwatch_tls_retry_when_empty(BIO *bio) {
    BIO_set_mem_eof_return(bio, -1);
}
