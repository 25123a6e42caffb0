#ifndef RESILIENT_POSTGRES_CEPOLL_SHIM_H
#define RESILIENT_POSTGRES_CEPOLL_SHIM_H

// Linux's readiness API, which the Glibc module does not expose (empty elsewhere), and the Swift runtime's hook for
// its global executor.
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

#include <stdbool.h>

/// Swift Concurrency's hook for the jobs of its global executor (the runtime's `swift_task_enqueueGlobal_hook`),
/// named here rather than looked up with `dlsym`, so that it resolves in a binary with the Swift runtime linked in
/// statically too, where the symbol is not exported.
extern void *_Nullable swift_task_enqueueGlobal_hook;

/// Sets the hook to `hook` if no hook is set, atomically; returns whether it did.
static inline bool resilient_postgres_install_enqueue_global_hook(void *_Nonnull hook) {
    void *expected = 0;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

#endif
