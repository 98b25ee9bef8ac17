// Fork safety. A fork while another thread holds one of the tracker's locks would leave the child
// with a lock nobody can release. The prepare handler takes them all, so fork happens between
// critical sections, outermost first: the agent's work, the patterns' merge table (held across the
// shards' locks), the thread registry, the sample tables (sites, sample set, shards), the guarded
// pool's slot table (a leaf: nothing is locked under it); the parent releases them in reverse.
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/CLeakTrackEntry.h"
#include "lt_internal.h"

// The shipper thread's work in Swift: everything it does between two waits (snapshots,
// symbolizing, encoding, its own lazy globals). A fork in the middle of it would leave the
// child's Swift locks (the symbolizer's, the runtime's metadata caches, a `swift_once` in
// progress) held by a thread that does not exist there, and the child's agent could never ship:
// the prepare handler waits for the work in progress, milliseconds at most; the shipper releases
// the gate whenever it waits (poll, name resolution), so a fork never waits for the network.
// Taken before the tracker's locks, as the shipper's work takes them inside it.
static pthread_mutex_t agent_work = PTHREAD_MUTEX_INITIALIZER;

void lt_agent_work_begin(void) { pthread_mutex_lock(&agent_work); }
void lt_agent_work_end(void) { pthread_mutex_unlock(&agent_work); }

static _Atomic int restart_after_fork;

void lt_set_restart_after_fork(int enabled) { atomic_store_explicit(&restart_after_fork, enabled, memory_order_relaxed); }

// A child that execs at once (a shell running a command: microseconds) is replaced before this
// wait ends and never starts an agent only to lose it; a prefork worker starts 50 ms late.
#define RESTART_DELAY_MICROSECONDS 50000

// The agent's entry points: LeakAgent's functions when it is linked in (interpose.c), the loaded
// runtime's in the preload library (preload.c). Set before any fork or exit that uses them.
static void (*_Atomic fork_restarter)(void);
static void (*_Atomic exit_report_writer)(void);

void lt_set_fork_restarter(void (*restart)(void)) { atomic_store(&fork_restarter, restart); }
void lt_set_exit_report_writer(void (*write)(void)) { atomic_store(&exit_report_writer, write); }

static void *restart_agent(void *unused) {
    (void)unused;
    usleep(RESTART_DELAY_MICROSECONDS);
    void (*restart)(void) = atomic_load(&fork_restarter);
    if (restart != NULL) restart();
    return NULL;
}

// The child of a fork without exec (nginx and Apache workers, gunicorn, redis's save child) has
// only the forking thread: the agent's threads are gone. A thread of the agent's own starts it
// again as a new process instance, so the forking thread returns from fork at once and whatever
// the restart waits for can only ever stall the agent, never the program.
static void start_agent_in_child(void) {
    if (!atomic_load_explicit(&restart_after_fork, memory_order_relaxed) || atomic_load(&fork_restarter) == NULL) return;
    lt_start_agent_thread(restart_agent);
}

void lt_start_agent_thread(void *(*body)(void *)) {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous); // signals go to the program's threads
    pthread_t thread;
    if (pthread_create(&thread, NULL, body, NULL) == 0) pthread_detach(thread);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
}

// Allocations made by the forking thread while it holds the locks (other libraries' fork
// handlers run in between) pass through untracked instead of deadlocking on them.
static void before_fork(void) {
    pthread_mutex_lock(&agent_work);
    lt_busy = 1;
    lt_patterns_lock();
    lt_registry_lock();
    lt_tables_lock();
    lt_guard_lock();
}

static void after_fork_in_parent(void) {
    lt_guard_unlock();
    lt_tables_unlock();
    lt_registry_unlock();
    lt_patterns_unlock();
    lt_busy = 0;
    pthread_mutex_unlock(&agent_work);
}

static void after_fork_in_child(void) {
    lt_guard_reinit_after_fork();
    lt_guard_errors_reinit_after_fork();
    lt_tables_reinit_after_fork();
    lt_registry_reinit_after_fork();
    lt_patterns_reinit_after_fork();
    lt_busy = 0;
    pthread_mutex_unlock(&agent_work);
    start_agent_in_child();
}

// The process that installed the report. A forked child inherits the atexit handler; its report
// would replace the started process's at the same path. Unless the path has a `%p` (the pid, as
// in LSan's log_path), only that process writes one.
static pid_t report_owner;
static bool report_per_process;

static void write_exit_report(void) {
    if (getpid() != report_owner && !report_per_process) return;
    void (*write)(void) = atomic_load(&exit_report_writer);
    if (write != NULL) write();
}

// Runs before main from the hooks' constructor (or on the first registration otherwise).
__attribute__((constructor)) static void install_fork_handlers(void) {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

void lt_install_exit_report(void) {
    const char *destination = getenv("LEAKWATCH_REPORT");
    if (destination != NULL && *destination != '\0') {
        report_owner = getpid();
        report_per_process = strstr(destination, "%p") != NULL;
        atexit(write_exit_report);
    }
}
