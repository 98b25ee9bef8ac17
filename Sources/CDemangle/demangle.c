#include <libiberty/demangle.h>

#include "CDemangle.h"

char *lw_demangle_rust(const char *mangled) {
    return cplus_demangle(mangled, DMGL_PARAMS | DMGL_ANSI | DMGL_RUST);
}

char *lw_demangle_cxx(const char *mangled) {
    return cplus_demangle_v3(mangled, DMGL_PARAMS | DMGL_ANSI);
}
