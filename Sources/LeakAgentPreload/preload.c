// libLeakAgentPreload.so: the tracker, the hooks and this loader, in C only (agent/build-preload
// links it with cc, so it needs nothing but libc). The Swift agent (libLeakAgentRuntime.so, beside
// it) is loaded only for a process that is configured, and then on a thread of its own: linking it
// in brought libswiftCore, Foundation and ICU into every preloaded exec, 8.7 ms and 18 MB each
// (docs/PERFORMANCE.md), to programs that set no LEAKWATCH_* variable and never report anything.
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "CLeakTrack.h"
#include "CLeakTrackEntry.h"

extern char **environ;

#define RUNTIME_NAME "libLeakAgentRuntime.so"

static bool is_leakwatch_variable(const char *entry) { return strncmp(entry, "LEAKWATCH_", 10) == 0; }

static size_t count_leakwatch_variables(void) {
    size_t count = 0;
    for (char **entry = environ; entry != NULL && *entry != NULL; entry++) count += is_leakwatch_variable(*entry);
    return count;
}

// The core's rule for the guard pool (lt_internal.h): unconfigured, the process only counts.
__attribute__((visibility("hidden"))) bool lt_preload_unconfigured(void) { return count_leakwatch_variables() == 0; }

// The LEAKWATCH_* variables as the process started: the agent reads them later, on its own thread,
// by when a program may have cleared its environment (nginx's workers keep only what its `env`
// directives name, before a worker's agent starts), and a copy is the only safe read of them
// while the program's threads may call setenv.
static char **saved_environment;

static void save_environment(size_t count) {
    saved_environment = calloc(count + 1, sizeof *saved_environment);
    if (saved_environment == NULL) return;
    size_t index = 0;
    for (char **entry = environ; entry != NULL && *entry != NULL && index < count; entry++) {
        if (is_leakwatch_variable(*entry)) saved_environment[index++] = strdup(*entry);
    }
}

/// The LEAKWATCH_* entries ("NAME=value") the process started with, NULL-terminated; LeakAgent
/// reads its settings from these when it runs preloaded.
__attribute__((visibility("default"))) char *const *leakwatch_preload_environment(void) { return saved_environment; }

static void *runtime;
static pthread_once_t runtime_once = PTHREAD_ONCE_INIT;

// The runtime beside this library, or LEAKWATCH_RUNTIME. Its undefined lt_ symbols bind to this
// library's, which LD_PRELOAD put first in the global scope.
static void load_runtime(void) {
    char path[4096];
    const char *chosen = getenv("LEAKWATCH_RUNTIME");
    if (chosen == NULL || *chosen == '\0') {
        Dl_info self;
        if (dladdr((void *)load_runtime, &self) == 0 || self.dli_fname == NULL) return;
        const char *slash = strrchr(self.dli_fname, '/');
        size_t directory = slash == NULL ? 0 : (size_t)(slash - self.dli_fname) + 1;
        if (directory + sizeof RUNTIME_NAME > sizeof path) return;
        memcpy(path, self.dli_fname, directory);
        memcpy(path + directory, RUNTIME_NAME, sizeof RUNTIME_NAME);
        chosen = path;
    }
    // The Swift runtime installs a crash handler as it starts unless SWIFT_BACKTRACE says not to:
    // in a program that is not Swift, that would change how it crashes (and leave swift-backtrace
    // holding its stdout). A Swift program's own runtime has read its setting already.
    void *swift = dlopen("libswiftCore.so", RTLD_NOW | RTLD_NOLOAD);
    bool quiet = swift == NULL && getenv("SWIFT_BACKTRACE") == NULL;
    if (swift != NULL) dlclose(swift);
    if (quiet) setenv("SWIFT_BACKTRACE", "enable=no", 0);
    lt_thread_pause_sampling();
    runtime = dlopen(chosen, RTLD_NOW | RTLD_LOCAL);
    lt_thread_resume_sampling();
    if (quiet) unsetenv("SWIFT_BACKTRACE");
    if (runtime == NULL) {
        lt_set_sample_mean_bytes(0);
        fprintf(stderr, "leakwatch: cannot load the agent (%s); the program runs without it\n", dlerror());
        return;
    }
}

/// The Swift agent, loaded on first need; NULL if it cannot be.
static void *loaded_runtime(void) {
    pthread_once(&runtime_once, load_runtime);
    return runtime;
}

static void call_runtime(const char *name) {
    void *library = loaded_runtime();
    void (*function)(void) = library == NULL ? NULL : (void (*)(void))dlsym(library, name);
    if (function != NULL) function();
}

// A process that is done within this (a compiler pass, a shell's /bin/true) exits without ever
// loading the runtime: an exit during the load waits for it in the loader's lock, 1.3 ms a process
// (StartupBenchmark). Its allocations are counted and sampled from the start all the same.
#define START_DELAY_MICROSECONDS 50000

static _Atomic bool agent_started;

static void load_and_start_agent(void) {
    lt_thread_mark_agent();
    lt_thread_set_name("leakwatch-start");
    lt_agent_work_begin();
    call_runtime("leakwatch_preload_start");
    agent_started = true;
    lt_agent_work_end();
}

// The agent's start-up thread: loads the runtime and starts the agent, whose own threads then do
// the work. A fork waits while it runs (lt_agent_work), so no child inherits a half-done load.
static void *start_agent(void *unused) {
    (void)unused;
    usleep(START_DELAY_MICROSECONDS);
    load_and_start_agent();
    return NULL;
}

// In the child of a fork, on a thread of its own (fork.c): the agent the parent ran, as a new
// process instance; or, when the parent forked before its agent started (a prefork server's
// master forks its workers at once), the child starts one of its own.
static void restart_in_child(void) {
    if (agent_started) {
        call_runtime("leakwatch_after_fork_in_child");
    } else {
        load_and_start_agent();
    }
}

static void *load_as_agent(void *unused) {
    (void)unused;
    lt_thread_mark_agent();
    loaded_runtime();
    return NULL;
}

// What loading the runtime and writing the report allocate is not the program's: the load, if the
// start-up thread has not done it yet, runs on a thread of the agent's (its bytes are counted
// apart), the report with sampling paused.
static void write_exit_report_after_loading(void) {
    pthread_t loader;
    if (pthread_create(&loader, NULL, load_as_agent, NULL) == 0) pthread_join(loader, NULL);
    lt_thread_pause_sampling();
    call_runtime("leakwatch_write_exit_report");
    lt_thread_resume_sampling();
}

__attribute__((constructor)) static void leakwatch_preload_constructor(void) {
    size_t variables = count_leakwatch_variables();
    if (variables == 0) {
        // Nobody will read a stack: count only.
        lt_set_sample_mean_bytes(0);
        return;
    }
    save_environment(variables);
    const char *check = getenv("LEAKWATCH_CHECK");
    if (check != NULL && strcmp(check, "1") == 0) {
        call_runtime("leakwatch_preload_start"); // checks, says what it found and exits
        _exit(2);
    }
    // A process that exits before the start-up thread has loaded the runtime still writes its
    // report: the exit handler loads it (or waits for the load in progress).
    lt_set_exit_report_writer(write_exit_report_after_loading);
    lt_set_fork_restarter(restart_in_child);
    const char *collector = getenv("LEAKWATCH_COLLECTOR");
    if (collector != NULL && *collector != '\0') lt_set_restart_after_fork(1); // the agent will ship
    lt_start_agent_thread(start_agent);
}
