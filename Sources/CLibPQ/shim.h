#ifndef RESILIENT_POSTGRES_CLIBPQ_SHIM_H
#define RESILIENT_POSTGRES_CLIBPQ_SHIM_H

#include <libpq-fe.h>

#endif
