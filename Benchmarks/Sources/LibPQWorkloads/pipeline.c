#include "internal.h"

#include <poll.h>
#include <stdbool.h>

/// Queries queued between two flushes: the server starts on the batch while the rest is queued, and libpq's output
/// buffer stays small (a libpq send buffer that grows to the whole batch is moved down after every partial send).
enum { QUERIES_PER_FLUSH = 128 };

/// Reads every result libpq has parsed, without blocking, checking that the i-th answer is i + 1.
/// Returns 1 when the Sync's result came, 0 when more must be read, -1 on failure.
static int read_available(PGconn *conn, int count, int *received, lpqw_error *error) {
    int nulls = 0;
    while (!PQisBusy(conn)) {
        PGresult *result = PQgetResult(conn);
        if (result == NULL) {
            // One NULL ends each query's results; two in a row mean nothing more is buffered.
            if (++nulls > 1) return 0;
            continue;
        }
        nulls = 0;
        if (PQresultStatus(result) == PGRES_PIPELINE_SYNC) {
            PQclear(result);
            return 1;
        }
        if (*received >= count) {
            PQclear(result);
            return lpqw_fail(error, "pipeline: more results than queries");
        }
        if (lpqw_expect_int4(conn, result, *received + 1, error) != 0) return -1;
        (*received)++;
    }
    return 0;
}

/// Queues the queries a chunk at a time and reads answers as they come, in non-blocking mode, as libpq's manual
/// advises for large pipelines: "the client should be structured around a non-blocking event loop".
static int pump(PGconn *conn, int count, lpqw_error *error) {
    const Oid types[1] = {LPQW_INT8_OID};
    const int lengths[1] = {8};
    const int formats[1] = {1};
    char value[8];
    const char *values[1] = {value};
    int queued = 0;
    int received = 0;
    bool synced = false;
    bool output_pending = false;
    for (;;) {
        if (!output_pending && !synced) {
            // libpq copies each query into its output buffer, so one value buffer serves every query.
            for (int i = 0; i < QUERIES_PER_FLUSH && queued < count; i++, queued++) {
                lpqw_put_int64(value, queued);
                if (!PQsendQueryParams(conn, lpqw_param_sql, 1, types, values, lengths, formats, 1)) {
                    return lpqw_fail_result(error, conn, NULL, "pipeline send");
                }
            }
            if (queued == count) {
                if (!PQpipelineSync(conn)) return lpqw_fail_result(error, conn, NULL, "pipeline sync");
                synced = true;
            }
        }
        int flushed = PQflush(conn);
        if (flushed < 0) return lpqw_fail_result(error, conn, NULL, "pipeline flush");
        output_pending = flushed == 1;
        if (!PQconsumeInput(conn)) return lpqw_fail_result(error, conn, NULL, "pipeline read");
        int status = read_available(conn, count, &received, error);
        if (status < 0) return -1;
        if (status == 1) {
            if (received != count) return lpqw_fail(error, "pipeline: %d answers to %d queries", received, count);
            return 0;
        }
        if (!output_pending && !synced) continue;
        struct pollfd descriptor = {.fd = PQsocket(conn), .events = POLLIN | (output_pending ? POLLOUT : 0)};
        if (poll(&descriptor, 1, -1) < 0) return lpqw_fail(error, "pipeline: poll failed");
    }
}

int lpqw_pipeline_param(lpqw_connection *connection, int count, lpqw_error *error) {
    PGconn *conn = connection->conn;
    if (PQsetnonblocking(conn, 1) != 0) return lpqw_fail_result(error, conn, NULL, "nonblocking");
    if (!PQenterPipelineMode(conn)) return lpqw_fail_result(error, conn, NULL, "pipeline mode");
    int status = pump(conn, count, error);
    if (status == 0 && !PQexitPipelineMode(conn)) status = lpqw_fail_result(error, conn, NULL, "exit pipeline");
    PQsetnonblocking(conn, 0);
    return status;
}
