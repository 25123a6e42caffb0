#include "internal.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const lpqw_param_sql = "SELECT $1::int4 + 1";

int lpqw_fail(lpqw_error *error, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error->message, sizeof error->message, format, arguments);
    va_end(arguments);
    return -1;
}

int lpqw_fail_result(lpqw_error *error, PGconn *conn, PGresult *result, const char *what) {
    const char *message = result != NULL ? PQresultErrorMessage(result) : "";
    if (message[0] == '\0') message = PQerrorMessage(conn);
    lpqw_fail(error, "%s: %s", what, message);
    if (result != NULL) PQclear(result);
    return -1;
}

void lpqw_put_int64(char destination[8], int64_t value) {
    uint64_t big = htobe64((uint64_t)value);
    memcpy(destination, &big, 8);
}

int32_t lpqw_get_int32(const char *source) {
    uint32_t big;
    memcpy(&big, source, 4);
    return (int32_t)be32toh(big);
}

int64_t lpqw_get_int64(const char *source) {
    uint64_t big;
    memcpy(&big, source, 8);
    return (int64_t)be64toh(big);
}

int lpqw_expect_int4(PGconn *conn, PGresult *result, int64_t expected, lpqw_error *error) {
    if (PQresultStatus(result) != PGRES_TUPLES_OK) return lpqw_fail_result(error, conn, result, "select");
    if (PQntuples(result) != 1 || PQnfields(result) != 1 || PQgetlength(result, 0, 0) != 4) {
        PQclear(result);
        return lpqw_fail(error, "select: expected one int4");
    }
    int32_t value = lpqw_get_int32(PQgetvalue(result, 0, 0));
    PQclear(result);
    if (value != expected) return lpqw_fail(error, "select: expected %lld, got %d", (long long)expected, value);
    return 0;
}

lpqw_connection *lpqw_connect(const char *conninfo, lpqw_error *error) {
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        lpqw_fail(error, "connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    lpqw_connection *connection = malloc(sizeof *connection);
    if (connection == NULL) {
        PQfinish(conn);
        lpqw_fail(error, "connect: out of memory");
        return NULL;
    }
    connection->conn = conn;
    return connection;
}

void lpqw_close(lpqw_connection *connection) {
    if (connection == NULL) return;
    PQfinish(connection->conn);
    free(connection);
}

int lpqw_exec(lpqw_connection *connection, const char *sql, lpqw_error *error) {
    PGconn *conn = connection->conn;
    PGresult *result = PQexec(conn, sql);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return lpqw_fail_result(error, conn, result, "exec");
    PQclear(result);
    return 0;
}

int lpqw_server_version(lpqw_connection *connection) { return PQserverVersion(connection->conn); }

int lpqw_library_version(void) { return PQlibVersion(); }
