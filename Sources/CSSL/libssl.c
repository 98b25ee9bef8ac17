// libssl, loaded on first use: see include/CSSL.h.
#include "CSSL.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

// The soname of OpenSSL 3, whose headers these are: another major version has other structures.
#define LEAKWATCH_LIBSSL "libssl.so.3"

// One pointer per libssl function, of the function's own type.
#define LEAKWATCH_SSL_FUNCTIONS(X)                                                                  \
    X(OPENSSL_init_ssl) X(TLS_client_method) X(SSL_CTX_new_ex) X(SSL_CTX_free) X(SSL_CTX_ctrl)      \
    X(SSL_CTX_set_verify) X(SSL_CTX_load_verify_locations) X(SSL_CTX_use_certificate_chain_file)    \
    X(SSL_CTX_use_PrivateKey_file) X(SSL_CTX_check_private_key) X(SSL_new) X(SSL_free) X(SSL_ctrl)  \
    X(SSL_set_bio) X(SSL_set_connect_state) X(SSL_get0_param) X(SSL_set1_host) X(SSL_connect)       \
    X(SSL_get_error) X(SSL_read) X(SSL_write) X(SSL_shutdown) X(SSL_get_verify_result)

#define LEAKWATCH_DECLARE(name) static __typeof__(name) *lt_##name;
LEAKWATCH_SSL_FUNCTIONS(LEAKWATCH_DECLARE)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;
static char load_error[256] = "libssl was not loaded yet";

static void load(void) {
    // RTLD_LOCAL: libssl's symbols stay out of the program's global scope, where they could
    // interpose on a libssl of the program's own (or be interposed on).
    void *library = dlopen(LEAKWATCH_LIBSSL, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s (OpenSSL 3, Debian's libssl3): %s",
                 LEAKWATCH_LIBSSL, reason ? reason : "unknown reason");
        return;
    }
#define LEAKWATCH_RESOLVE(name)                                                                     \
    lt_##name = (__typeof__(name) *)dlsym(library, #name);                                          \
    if (lt_##name == NULL) {                                                                        \
        snprintf(load_error, sizeof load_error, "%s has no function %s", LEAKWATCH_LIBSSL, #name);  \
        return;                                                                                     \
    }
    LEAKWATCH_SSL_FUNCTIONS(LEAKWATCH_RESOLVE)
    // Never dlclose'd: sessions and OpenSSL's thread-exit handlers use it until the process ends.
    loaded = 1;
}

int leakwatch_ssl_load(void) {
    pthread_once(&load_once, load);
    return loaded;
}

const char *leakwatch_ssl_load_error(void) { return load_error; }

int leakwatch_ssl_OPENSSL_init_ssl(uint64_t options, const OPENSSL_INIT_SETTINGS *settings) {
    return lt_OPENSSL_init_ssl(options, settings);
}
const SSL_METHOD *leakwatch_ssl_TLS_client_method(void) { return lt_TLS_client_method(); }
SSL_CTX *leakwatch_ssl_SSL_CTX_new_ex(OSSL_LIB_CTX *library, const char *properties, const SSL_METHOD *method) {
    return lt_SSL_CTX_new_ex(library, properties, method);
}
void leakwatch_ssl_SSL_CTX_free(SSL_CTX *context) { lt_SSL_CTX_free(context); }
void leakwatch_ssl_SSL_CTX_set_verify(SSL_CTX *context, int mode, SSL_verify_cb callback) {
    lt_SSL_CTX_set_verify(context, mode, callback);
}
int leakwatch_ssl_SSL_CTX_load_verify_locations(SSL_CTX *context, const char *file, const char *path) {
    return lt_SSL_CTX_load_verify_locations(context, file, path);
}
int leakwatch_ssl_SSL_CTX_use_certificate_chain_file(SSL_CTX *context, const char *file) {
    return lt_SSL_CTX_use_certificate_chain_file(context, file);
}
int leakwatch_ssl_SSL_CTX_use_PrivateKey_file(SSL_CTX *context, const char *file, int type) {
    return lt_SSL_CTX_use_PrivateKey_file(context, file, type);
}
int leakwatch_ssl_SSL_CTX_check_private_key(const SSL_CTX *context) { return lt_SSL_CTX_check_private_key(context); }
SSL *leakwatch_ssl_SSL_new(SSL_CTX *context) { return lt_SSL_new(context); }
void leakwatch_ssl_SSL_free(SSL *connection) { lt_SSL_free(connection); }
void leakwatch_ssl_SSL_set_bio(SSL *connection, BIO *inbound, BIO *outbound) { lt_SSL_set_bio(connection, inbound, outbound); }
void leakwatch_ssl_SSL_set_connect_state(SSL *connection) { lt_SSL_set_connect_state(connection); }
X509_VERIFY_PARAM *leakwatch_ssl_SSL_get0_param(SSL *connection) { return lt_SSL_get0_param(connection); }
int leakwatch_ssl_SSL_set1_host(SSL *connection, const char *name) { return lt_SSL_set1_host(connection, name); }
int leakwatch_ssl_SSL_connect(SSL *connection) { return lt_SSL_connect(connection); }
int leakwatch_ssl_SSL_get_error(const SSL *connection, int result) { return lt_SSL_get_error(connection, result); }
int leakwatch_ssl_SSL_read(SSL *connection, void *buffer, int count) { return lt_SSL_read(connection, buffer, count); }
int leakwatch_ssl_SSL_write(SSL *connection, const void *buffer, int count) { return lt_SSL_write(connection, buffer, count); }
int leakwatch_ssl_SSL_shutdown(SSL *connection) { return lt_SSL_shutdown(connection); }
long leakwatch_ssl_SSL_get_verify_result(const SSL *connection) { return lt_SSL_get_verify_result(connection); }

// SSL_CTX_set_min_proto_version and SSL_set_tlsext_host_name, spelled out.
int leakwatch_tls_require_version_1_3(SSL_CTX *context) {
    return (int)lt_SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_3_VERSION, NULL);
}

int leakwatch_tls_set_server_name(SSL *connection, const char *name) {
    return (int)lt_SSL_ctrl(connection, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)name);
}
