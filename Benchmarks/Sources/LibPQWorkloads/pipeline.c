#include "internal.h"

#include <poll.h>

/// Reads results until the pipeline's Sync, checking that the i-th answer is i + 1. Returns the answers counted.
static int read_until_sync(PGconn *conn, int count, lpqw_error *error) {
    int received = 0;
    for (;;) {
        // "Wait for the socket to be read-ready or write-ready": flush what is left while reading, so that
        // neither side blocks on a full buffer.
        int pending = PQflush(conn);
        if (pending < 0) return lpqw_fail_result(error, conn, NULL, "pipeline flush");
        int nulls = 0;
        while (!PQisBusy(conn)) {
            PGresult *result = PQgetResult(conn);
            if (result == NULL) {
                // One NULL ends each query's results; two in a row mean nothing more is buffered.
                if (++nulls > 1) break;
                continue;
            }
            nulls = 0;
            ExecStatusType status = PQresultStatus(result);
            if (status == PGRES_PIPELINE_SYNC) {
                PQclear(result);
                return received;
            }
            if (received >= count) {
                PQclear(result);
                return lpqw_fail(error, "pipeline: more results than queries");
            }
            if (lpqw_expect_int4(conn, result, received + 1, error) != 0) return -1;
            received++;
        }
        struct pollfd descriptor = {.fd = PQsocket(conn), .events = POLLIN | (pending ? POLLOUT : 0)};
        if (poll(&descriptor, 1, -1) < 0) return lpqw_fail(error, "pipeline: poll failed");
        if ((descriptor.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(conn)) {
            return lpqw_fail_result(error, conn, NULL, "pipeline read");
        }
    }
}

int lpqw_pipeline_param(lpqw_connection *connection, int count, lpqw_error *error) {
    PGconn *conn = connection->conn;
    if (PQsetnonblocking(conn, 1) != 0) return lpqw_fail_result(error, conn, NULL, "nonblocking");
    if (!PQenterPipelineMode(conn)) return lpqw_fail_result(error, conn, NULL, "pipeline mode");
    const Oid types[1] = {LPQW_INT8_OID};
    const int lengths[1] = {8};
    const int formats[1] = {1};
    char value[8];
    const char *values[1] = {value};
    int status = 0;
    // libpq copies each query into its output buffer, so one value buffer serves every query.
    for (int i = 0; i < count && status == 0; i++) {
        lpqw_put_int64(value, i);
        if (!PQsendQueryParams(conn, lpqw_param_sql, 1, types, values, lengths, formats, 1)) {
            status = lpqw_fail_result(error, conn, NULL, "pipeline send");
        }
    }
    if (status == 0 && !PQpipelineSync(conn)) status = lpqw_fail_result(error, conn, NULL, "pipeline sync");
    if (status == 0) {
        int received = read_until_sync(conn, count, error);
        if (received < 0) status = -1;
        else if (received != count) status = lpqw_fail(error, "pipeline: %d answers to %d queries", received, count);
    }
    if (status == 0 && !PQexitPipelineMode(conn)) status = lpqw_fail_result(error, conn, NULL, "exit pipeline");
    PQsetnonblocking(conn, 0);
    return status;
}
