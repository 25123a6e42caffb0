#include "internal.h"

#include <stdlib.h>
#include <string.h>

/// The query stream_rows streams: (int4, text of 100 bytes) for $1 rows. The same as StreamWorkloads.rowsSQL.
static const char *const stream_sql = "SELECT i, repeat('x', 100) FROM generate_series(1, $1::int4) AS i";

int64_t lpqw_stream_rows(lpqw_connection *connection, int count, int64_t *id_sum, lpqw_error *error) {
    PGconn *conn = connection->conn;
    const Oid types[1] = {LPQW_INT8_OID};
    const int lengths[1] = {8};
    const int formats[1] = {1};
    char value[8];
    const char *values[1] = {value};
    lpqw_put_int64(value, count);
    if (!PQsendQueryParams(conn, stream_sql, 1, types, values, lengths, formats, 1)) {
        return lpqw_fail(error, "stream: %s", PQerrorMessage(conn));
    }
    if (!PQsetSingleRowMode(conn)) return lpqw_fail(error, "stream: could not enter single-row mode");
    int64_t rows = 0;
    int64_t sum = 0;
    int failed = 0;
    PGresult *result;
    while ((result = PQgetResult(conn)) != NULL) {
        ExecStatusType status = PQresultStatus(result);
        if (status == PGRES_SINGLE_TUPLE && !failed) {
            if (PQgetlength(result, 0, 0) != 4 || PQgetisnull(result, 0, 1)) {
                failed = lpqw_fail(error, "stream: expected (int4, text)");
            } else {
                // Decoded as the Swift clients decode it: the integer, and the text copied into memory of its own.
                sum += lpqw_get_int32(PQgetvalue(result, 0, 0));
                int length = PQgetlength(result, 0, 1);
                char *name = malloc((size_t)length + 1);
                if (name == NULL) return lpqw_fail(error, "stream: out of memory");
                memcpy(name, PQgetvalue(result, 0, 1), (size_t)length);
                name[length] = '\0';
                // The copy is freed unread, so without this the compiler removes the malloc, memcpy and free
                // (clang -O2 does): an empty statement that may read the memory keeps the copy real.
                __asm__ volatile("" : : "r"(name) : "memory");
                free(name);
                rows++;
            }
        } else if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK && !failed) {
            failed = lpqw_fail(error, "stream: %s", PQresultErrorMessage(result));
        }
        PQclear(result);
    }
    if (failed) return -1;
    *id_sum = sum;
    return rows;
}

/// Appends `id\trow id\n` at `out`; returns the bytes written. The same as CopyTextChunks.
static size_t copy_row(char *out, int64_t id) {
    char digits[20];
    int count = 0;
    do {
        digits[19 - count] = (char)('0' + id % 10);
        id /= 10;
        count++;
    } while (id > 0);
    char *start = out;
    memcpy(out, digits + 20 - count, (size_t)count);
    out += count;
    memcpy(out, "\trow ", 5);
    out += 5;
    memcpy(out, digits + 20 - count, (size_t)count);
    out += count;
    *out++ = '\n';
    return (size_t)(out - start);
}

int64_t lpqw_copy_in(lpqw_connection *connection, int count, int chunk_size, lpqw_error *error) {
    PGconn *conn = connection->conn;
    PGresult *result = PQexec(conn, "COPY bench_copy (id, name) FROM STDIN");
    if (PQresultStatus(result) != PGRES_COPY_IN) return lpqw_fail_result(error, conn, result, "copy");
    PQclear(result);
    char *chunk = malloc((size_t)chunk_size + 64);
    if (chunk == NULL) return lpqw_fail(error, "copy: out of memory");
    int64_t id = 1;
    while (id <= count) {
        size_t length = 0;
        while (id <= count && length < (size_t)chunk_size) length += copy_row(chunk + length, id++);
        // Blocking connection: returns once libpq has queued the chunk (sending what its buffer cannot hold).
        if (PQputCopyData(conn, chunk, (int)length) != 1) {
            free(chunk);
            return lpqw_fail(error, "copy: %s", PQerrorMessage(conn));
        }
    }
    free(chunk);
    if (PQputCopyEnd(conn, NULL) != 1) return lpqw_fail(error, "copy end: %s", PQerrorMessage(conn));
    result = PQgetResult(conn);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) return lpqw_fail_result(error, conn, result, "copy");
    int64_t copied = strtoll(PQcmdTuples(result), NULL, 10);
    PQclear(result);
    while ((result = PQgetResult(conn)) != NULL) PQclear(result);
    return copied;
}
