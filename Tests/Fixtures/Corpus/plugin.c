// A plug-in that plugin_host loads and unloads: the blocks it keeps were allocated by code that is
// no longer mapped when the agent symbolizes their stacks at exit.
#include <stdlib.h>
#include <string.h>

void *plugin_kept[64];

__attribute__((noinline)) unsigned plugin_build_table(int round) {
    unsigned sum = 0;
    for (int i = 0; i < 64; i++) {
        unsigned char *block = malloc(16384);
        memset(block, round + i, 16384);
        sum += block[i];
        plugin_kept[i] = block;
    }
    return sum;
}
