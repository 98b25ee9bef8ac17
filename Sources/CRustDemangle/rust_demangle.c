#include <libiberty/demangle.h>

#include "CRustDemangle.h"

char *lw_demangle_rust(const char *mangled) {
    return cplus_demangle(mangled, DMGL_PARAMS | DMGL_ANSI | DMGL_RUST);
}
