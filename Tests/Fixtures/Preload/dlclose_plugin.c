// A plugin that leaks and is then unloaded by dlclose_main.c: its frames must still be named.
#include <stdlib.h>

void *volatile plugin_blocks[8];

__attribute__((noinline)) void leak_in_plugin(void) {
    for (int i = 0; i < 8; i++) plugin_blocks[i] = malloc(4000);
}
