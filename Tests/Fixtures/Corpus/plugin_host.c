// dlopen, call, dlclose, three times over.
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    for (int round = 0; round < 3; round++) {
        void *plugin = dlopen("./libplugin.so", RTLD_NOW | RTLD_LOCAL);
        if (!plugin) {
            fprintf(stderr, "dlopen: %s\n", dlerror());
            return 1;
        }
        unsigned (*build)(int) = (unsigned (*)(int))dlsym(plugin, "plugin_build_table");
        if (!build) return 2;
        printf("round %d: %u\n", round, build(round));
        if (dlclose(plugin) != 0) return 3;
    }
    return 0;
}
