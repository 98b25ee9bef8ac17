// OpenSSL's libssl, for the TLS of the agent's and collector-cli's blocking connection, loaded on
// first use: a process that configures no TLS never maps libssl. The preloaded agent lives in
// programs that mostly ship in plaintext, and libssl linked in cost each of them about 220 kB
// resident (its Rss in /proc/PID/smaps once loaded, OpenSSL 3.0 on Debian 12).
//
// The headers give the types and constants only. Every libssl function Swift calls is one of the
// `leakwatch_ssl_*` below, which call through pointers that `leakwatch_ssl_load()` resolves with
// dlopen("libssl.so.3") and dlsym. Never the names `SSL_*` themselves: a definition of one here
// would interpose libssl's own calls to it. libcrypto's functions (BIO_*, ERR_*, X509_*) are
// called directly: the agent links libcrypto anyway, for the handshake's HMAC (CCrypto).
//
// As in CCrypto/shim.h: libssl's headers include libcrypto's, and one module's view of sha.h must
// not mark deprecated what the other uses on purpose.
#ifndef LEAKWATCH_CSSL_H
#define LEAKWATCH_CSSL_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// 1 once libssl is loaded and every function below resolved (the first call loads it; later
// calls, from any thread, return the first one's answer). 0: not loaded, and
// leakwatch_ssl_load_error() says why.
int leakwatch_ssl_load(void);
const char *leakwatch_ssl_load_error(void);

// libssl's functions of the same names without the prefix. Call only after leakwatch_ssl_load()
// returned 1.
int leakwatch_ssl_OPENSSL_init_ssl(uint64_t options, const OPENSSL_INIT_SETTINGS *settings);
const SSL_METHOD *leakwatch_ssl_TLS_client_method(void);
SSL_CTX *leakwatch_ssl_SSL_CTX_new_ex(OSSL_LIB_CTX *library, const char *properties, const SSL_METHOD *method);
void leakwatch_ssl_SSL_CTX_free(SSL_CTX *context);
void leakwatch_ssl_SSL_CTX_set_verify(SSL_CTX *context, int mode, SSL_verify_cb callback);
int leakwatch_ssl_SSL_CTX_load_verify_locations(SSL_CTX *context, const char *file, const char *path);
int leakwatch_ssl_SSL_CTX_use_certificate_chain_file(SSL_CTX *context, const char *file);
int leakwatch_ssl_SSL_CTX_use_PrivateKey_file(SSL_CTX *context, const char *file, int type);
int leakwatch_ssl_SSL_CTX_check_private_key(const SSL_CTX *context);
SSL *leakwatch_ssl_SSL_new(SSL_CTX *context);
void leakwatch_ssl_SSL_free(SSL *connection);
void leakwatch_ssl_SSL_set_bio(SSL *connection, BIO *inbound, BIO *outbound);
void leakwatch_ssl_SSL_set_connect_state(SSL *connection);
X509_VERIFY_PARAM *leakwatch_ssl_SSL_get0_param(SSL *connection);
int leakwatch_ssl_SSL_set1_host(SSL *connection, const char *name);
int leakwatch_ssl_SSL_connect(SSL *connection);
int leakwatch_ssl_SSL_get_error(const SSL *connection, int result);
int leakwatch_ssl_SSL_read(SSL *connection, void *buffer, int count);
int leakwatch_ssl_SSL_write(SSL *connection, const void *buffer, int count);
int leakwatch_ssl_SSL_shutdown(SSL *connection);
long leakwatch_ssl_SSL_get_verify_result(const SSL *connection);

// Macros of libssl's headers, over SSL_CTX_ctrl and SSL_ctrl, which Swift cannot call.
int leakwatch_tls_require_version_1_3(SSL_CTX *context);
int leakwatch_tls_set_server_name(SSL *connection, const char *name);

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

#endif
