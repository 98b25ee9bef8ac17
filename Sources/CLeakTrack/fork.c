// Fork safety. A fork while another thread holds one of the tracker's locks would leave the child
// with a lock nobody can release. The prepare handler takes both locks (registry before tables,
// the order used everywhere) so fork happens between critical sections.
#include <stdlib.h>
#include <unistd.h>

#include "include/CLeakTrackEntry.h"
#include "lt_internal.h"

// Allocations made by the forking thread while it holds the locks (other libraries' fork
// handlers run in between) pass through untracked instead of deadlocking on them.
static void before_fork(void) {
    lt_busy = 1;
    lt_registry_lock();
    lt_tables_lock();
}

static void after_fork_in_parent(void) {
    lt_tables_unlock();
    lt_registry_unlock();
    lt_busy = 0;
}

static void after_fork_in_child(void) {
    lt_tables_reinit_after_fork();
    lt_registry_reinit_after_fork();
    lt_busy = 0;
}

// The process that installed the report. A forked child inherits the atexit handler; its report
// would replace the started process's at the same path, and would run the Swift runtime in a child
// whose locks another thread may have held at the fork.
static pid_t report_owner;

static void write_exit_report(void) {
    if (getpid() != report_owner) return;
    if (leakwatch_write_exit_report) leakwatch_write_exit_report();
}

// Runs before main from the hooks' constructor (or on the first registration otherwise).
__attribute__((constructor)) static void install_fork_handlers(void) {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

void lt_install_exit_report(void) {
    const char *destination = getenv("LEAKWATCH_REPORT");
    if (destination != NULL && *destination != '\0') {
        report_owner = getpid();
        atexit(write_exit_report);
    }
}
