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

// What an error on the queue is, by its library and reason codes rather than its text: an alert the
// peer sent (its reason is the alert's number past SSL_AD_REASON_OFFSET), or a private key that is
// not the certificate's.
static inline int leakwatch_tls_error_is_alert(unsigned long code) {
    return ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) >= SSL_AD_REASON_OFFSET;
}

static inline int leakwatch_tls_error_is_key_mismatch(unsigned long code) {
    return ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH;
}
