#include "internal.h"

#include <stdio.h>

int lpqw_select_one(lpqw_connection *connection, int count, lpqw_error *error) {
    PGconn *conn = connection->conn;
    for (int i = 0; i < count; i++) {
        PGresult *result = PQexecParams(conn, "SELECT 1", 0, NULL, NULL, NULL, NULL, 1);
        if (lpqw_expect_int4(conn, result, 1, error) != 0) return -1;
    }
    return 0;
}

int lpqw_select_param(lpqw_connection *connection, int64_t first, int count, lpqw_error *error) {
    PGconn *conn = connection->conn;
    const Oid types[1] = {LPQW_INT8_OID};
    const int lengths[1] = {8};
    const int formats[1] = {1};
    char value[8];
    const char *values[1] = {value};
    for (int i = 0; i < count; i++) {
        int64_t n = first + i;
        lpqw_put_int64(value, n);
        PGresult *result = PQexecParams(conn, lpqw_param_sql, 1, types, values, lengths, formats, 1);
        if (lpqw_expect_int4(conn, result, n + 1, error) != 0) return -1;
    }
    return 0;
}

int lpqw_insert_transaction(lpqw_connection *connection, int64_t first, int count, lpqw_error *error) {
    PGconn *conn = connection->conn;
    if (lpqw_exec(connection, "BEGIN", error) != 0) return -1;
    const Oid types[2] = {LPQW_INT8_OID, LPQW_TEXT_OID};
    const int lengths[2] = {8, 0};
    const int formats[2] = {1, 0};
    char id[8];
    char name[32];
    const char *values[2] = {id, name};
    for (int i = 0; i < count; i++) {
        lpqw_put_int64(id, first + i);
        snprintf(name, sizeof name, "name-%lld", (long long)(first + i));
        PGresult *result = PQexecParams(
            conn, "INSERT INTO bench_insert (id, name) VALUES ($1, $2)", 2, types, values, lengths, formats, 1);
        if (PQresultStatus(result) != PGRES_COMMAND_OK) return lpqw_fail_result(error, conn, result, "insert");
        PQclear(result);
    }
    return lpqw_exec(connection, "COMMIT", error);
}
