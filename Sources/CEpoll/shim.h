#ifndef RESILIENT_POSTGRES_CEPOLL_SHIM_H
#define RESILIENT_POSTGRES_CEPOLL_SHIM_H

// Linux's readiness API, which the Glibc module does not expose. Empty elsewhere.
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

#endif
