// Starts the agent when the preloaded library is loaded, before the program's main.
#include "LeakAgentPreload.h"

void leakwatch_preload_start(void);

// Runs after the Swift runtime and this library's own Swift image are initialised (they are
// dependencies, or earlier in this library's initialiser list).
__attribute__((constructor)) static void leakwatch_preload_constructor(void) {
    leakwatch_preload_start();
}
