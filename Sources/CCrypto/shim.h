// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose first use fetches
// from the default library context and loads openssl.cnf: on the agent's thread, that raced the
// program's own first use of OpenSSL (python3's hashlib, under the guard pool a use-after-free in
// OPENSSL_LH_flush). The low-level digest touches no shared state.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
