// Loads the plugin named by argv[1], lets it leak 8 x 4000 bytes, and unloads it.
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    void *plugin = dlopen(argv[1], RTLD_NOW);
    if (plugin == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    void (*leak)(void) = (void (*)(void))dlsym(plugin, "leak_in_plugin");
    if (leak == NULL) return 1;
    leak();
    if (dlclose(plugin) != 0) return 1;
    puts("plugin unloaded");
    return 0;
}
