#include "internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The loop a C program writes to receive notifications: wait for the socket with poll(), PQconsumeInput, then take
// every parsed notification with PQnotifies, checking each payload is the next number.
int lpqw_listen_notify(lpqw_connection *listener, lpqw_connection *sender, const char *channel, int count,
                       lpqw_error *error) {
    PGconn *conn = listener->conn;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT pg_notify('%s', g::text) FROM generate_series(1, %d) g", channel, count);
    PGresult *sent = PQexec(sender->conn, sql);
    if (PQresultStatus(sent) != PGRES_TUPLES_OK) return lpqw_fail_result(error, sender->conn, sent, "pg_notify");
    PQclear(sent);
    int received = 0;
    while (received < count) {
        if (PQconsumeInput(conn) == 0) return lpqw_fail(error, "PQconsumeInput: %s", PQerrorMessage(conn));
        PGnotify *notify;
        while ((notify = PQnotifies(conn)) != NULL) {
            received += 1;
            int expected = received;
            int payload = atoi(notify->extra);
            PQfreemem(notify);
            if (payload != expected) return lpqw_fail(error, "notification %d arrived as %d", expected, payload);
        }
        if (received == count) break;
        struct pollfd descriptor = {.fd = PQsocket(conn), .events = POLLIN};
        if (poll(&descriptor, 1, 30000) <= 0) return lpqw_fail(error, "no notification within 30 s");
    }
    return 0;
}
