#ifndef RESILIENT_POSTGRES_CEPOLL_SHIM_H
#define RESILIENT_POSTGRES_CEPOLL_SHIM_H

// Linux's readiness API, which the Glibc module does not expose. Empty elsewhere.
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

#include <stdbool.h>

/// Stores `desired` at `*slot` if `*slot` is `expected`, atomically; returns whether it did. For a pointer that only
/// a C runtime exposes (Swift Concurrency's `swift_task_enqueueGlobal_hook`), which Swift's atomics cannot address.
static inline bool resilient_postgres_compare_exchange_pointer(void *_Nullable *_Nonnull slot,
                                                              void *_Nullable expected,
                                                              void *_Nullable desired) {
    return __atomic_compare_exchange_n(slot, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

#endif
