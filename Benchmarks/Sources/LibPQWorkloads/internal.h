// Helpers shared by the workload files; not part of the module's interface.
#ifndef RESILIENT_POSTGRES_LIBPQ_WORKLOADS_INTERNAL_H
#define RESILIENT_POSTGRES_LIBPQ_WORKLOADS_INTERNAL_H

#include "libpq_workloads.h"
#include <libpq-fe.h>

struct lpqw_connection {
    PGconn *conn;
};

/// The type OIDs the workloads bind.
enum { LPQW_INT8_OID = 20, LPQW_TEXT_OID = 25 };

/// The SQL every parameterized select runs.
extern const char *const lpqw_param_sql;

/// Writes a message into `error` (printf-style); returns -1.
int lpqw_fail(lpqw_error *error, const char *format, ...) __attribute__((format(printf, 2, 3)));

/// Writes libpq's message for a failed result (or the connection's) into `error`, clears the result; returns -1.
int lpqw_fail_result(lpqw_error *error, PGconn *conn, PGresult *result, const char *what);

/// Big-endian encoding and decoding of the binary wire format.
void lpqw_put_int64(char destination[8], int64_t value);
int32_t lpqw_get_int32(const char *source);
int64_t lpqw_get_int64(const char *source);

/// Checks that a result holds one row with one binary int4 equal to `expected`, then clears it.
int lpqw_expect_int4(PGconn *conn, PGresult *result, int64_t expected, lpqw_error *error);

#endif
