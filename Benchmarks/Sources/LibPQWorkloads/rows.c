#include "internal.h"

#include <stdlib.h>
#include <string.h>

/// One decoded row of bench_rows.
typedef struct {
    int64_t id;
    char *name;
    /// Seconds since 1970-01-01 UTC, as Swift's Date keeps them (a double).
    double created;
} decoded_row;

/// Seconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
static const double postgres_epoch = 946684800.0;

static int decode_result(PGresult *result, decoded_row *rows, int count) {
    for (int row = 0; row < count; row++) {
        if (PQgetisnull(result, row, 0) || PQgetisnull(result, row, 1) || PQgetisnull(result, row, 2)) return -1;
        if (PQgetlength(result, row, 0) != 4 || PQgetlength(result, row, 2) != 8) return -1;
        rows[row].id = lpqw_get_int32(PQgetvalue(result, row, 0));
        int length = PQgetlength(result, row, 1);
        rows[row].name = malloc((size_t)length + 1);
        if (rows[row].name == NULL) return -1;
        memcpy(rows[row].name, PQgetvalue(result, row, 1), (size_t)length);
        rows[row].name[length] = '\0';
        rows[row].created = (double)lpqw_get_int64(PQgetvalue(result, row, 2)) / 1e6 + postgres_epoch;
    }
    return 0;
}

int64_t lpqw_read_rows(lpqw_connection *connection, int times, lpqw_error *error) {
    PGconn *conn = connection->conn;
    int64_t decoded = 0;
    for (int time = 0; time < times; time++) {
        PGresult *result =
            PQexecParams(conn, "SELECT id, name, created FROM bench_rows", 0, NULL, NULL, NULL, NULL, 1);
        if (PQresultStatus(result) != PGRES_TUPLES_OK) return lpqw_fail_result(error, conn, result, "rows");
        if (PQnfields(result) != 3 || PQftype(result, 0) != 23 || PQftype(result, 1) != 25 ||
            PQftype(result, 2) != 1184) {
            PQclear(result);
            return lpqw_fail(error, "rows: expected (int4, text, timestamptz)");
        }
        int count = PQntuples(result);
        decoded_row *rows = calloc((size_t)count + 1, sizeof *rows);
        int status = rows != NULL ? decode_result(result, rows, count) : -1;
        if (rows != NULL) {
            for (int row = 0; row < count; row++) free(rows[row].name);
            free(rows);
        }
        PQclear(result);
        if (status != 0) return lpqw_fail(error, "rows: could not decode a row");
        decoded += count;
    }
    return decoded;
}
