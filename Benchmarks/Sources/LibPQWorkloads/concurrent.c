#include "internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/// Holds every thread until all are connected and warmed up, so that only the work itself is timed.
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int ready;
    bool go;
} start_gate;

/// One thread's share of the work, and how it went.
typedef struct {
    const char *conninfo;
    int warmup;
    int count;
    int64_t first;
    start_gate *gate;
    int status;
    lpqw_error error;
} worker;

static void *run_worker(void *argument) {
    worker *self = argument;
    lpqw_connection *connection = lpqw_connect(self->conninfo, &self->error);
    if (connection == NULL) self->status = -1;
    else self->status = lpqw_select_param(connection, self->first, self->warmup, &self->error);
    start_gate *gate = self->gate;
    pthread_mutex_lock(&gate->lock);
    gate->ready++;
    pthread_cond_broadcast(&gate->changed);
    while (!gate->go) pthread_cond_wait(&gate->changed, &gate->lock);
    pthread_mutex_unlock(&gate->lock);
    if (self->status == 0) self->status = lpqw_select_param(connection, self->first, self->count, &self->error);
    lpqw_close(connection);
    return NULL;
}

/// The process's CPU seconds and context switches so far.
static void usage_now(double *cpu_seconds, int64_t *context_switches) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    *cpu_seconds = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
                   (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    *context_switches = usage.ru_nvcsw + usage.ru_nivcsw;
}

static int64_t now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int lpqw_concurrent_param(
    const char *conninfo, int threads, int warmup, int count, lpqw_timing *timing, lpqw_error *error) {
    if (threads < 1 || count % threads != 0) return lpqw_fail(error, "concurrent: count must divide among threads");
    worker *workers = calloc((size_t)threads, sizeof *workers);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    if (workers == NULL || ids == NULL) {
        free(workers);
        free(ids);
        return lpqw_fail(error, "concurrent: out of memory");
    }
    start_gate gate = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    int started = 0;
    for (; started < threads; started++) {
        workers[started] = (worker){
            .conninfo = conninfo, .warmup = warmup, .count = count / threads,
            .first = (int64_t)started * (count / threads), .gate = &gate,
        };
        if (pthread_create(&ids[started], NULL, run_worker, &workers[started]) != 0) break;
    }
    pthread_mutex_lock(&gate.lock);
    while (gate.ready < started) pthread_cond_wait(&gate.changed, &gate.lock);
    double cpu_before;
    int64_t switches_before;
    usage_now(&cpu_before, &switches_before);
    int64_t start = now_ns();
    gate.go = true;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
    for (int i = 0; i < started; i++) pthread_join(ids[i], NULL);
    timing->elapsed_ns = now_ns() - start;
    usage_now(&timing->cpu_seconds, &timing->context_switches);
    timing->cpu_seconds -= cpu_before;
    timing->context_switches -= switches_before;
    int status = started == threads ? 0 : lpqw_fail(error, "concurrent: could not start thread %d", started);
    for (int i = 0; i < started && status == 0; i++) {
        if (workers[i].status != 0) {
            memcpy(error, &workers[i].error, sizeof *error);
            status = -1;
        }
    }
    free(workers);
    free(ids);
    return status;
}
