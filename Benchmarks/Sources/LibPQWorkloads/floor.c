#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

// The pieces of `seq_param` that the floor workloads drive from Swift: the same statement, parameter and check as
// lpqw_select_param, sent and read without blocking (the Swift side waits while lpqw_floor_read says the answer is
// incomplete), and the one-socket epoll set it waits on.

/// Epoll tags: the wake-up eventfd and the connection's socket.
enum { WAKE_TAG = 0, SOCKET_TAG = 1 };

int lpqw_floor_begin(lpqw_connection *connection, lpqw_error *error) {
    if (PQsetnonblocking(connection->conn, 1) != 0) {
        return lpqw_fail(error, "floor: %s", PQerrorMessage(connection->conn));
    }
    return 0;
}

int lpqw_floor_send(lpqw_connection *connection, int64_t n, lpqw_error *error) {
    PGconn *conn = connection->conn;
    const Oid types[1] = {LPQW_INT8_OID};
    const int lengths[1] = {8};
    const int formats[1] = {1};
    char value[8];
    const char *values[1] = {value};
    lpqw_put_int64(value, n);
    if (!PQsendQueryParams(conn, lpqw_param_sql, 1, types, values, lengths, formats, 1)) {
        return lpqw_fail(error, "floor: %s", PQerrorMessage(conn));
    }
    int flushed;
    while ((flushed = PQflush(conn)) == 1) {
        // A statement this small leaves in one write. Should it ever not, this waits for room in the socket's buffer
        // blocking the thread, which the floor does not measure.
        struct pollfd writable = {.fd = PQsocket(conn), .events = POLLOUT};
        if (poll(&writable, 1, -1) < 0 && errno != EINTR) return lpqw_fail(error, "floor: poll: %s", strerror(errno));
    }
    if (flushed < 0) return lpqw_fail(error, "floor: %s", PQerrorMessage(conn));
    return 0;
}

int lpqw_floor_read(lpqw_connection *connection, lpqw_error *error) {
    PGconn *conn = connection->conn;
    // What libpq has buffered may be enough: the socket is read only when it is not.
    if (!PQisBusy(conn)) return 0;
    if (!PQconsumeInput(conn)) return lpqw_fail(error, "floor: %s", PQerrorMessage(conn));
    return PQisBusy(conn);
}

int lpqw_floor_take(lpqw_connection *connection, int64_t n, int *results, lpqw_error *error) {
    PGconn *conn = connection->conn;
    // Called only once lpqw_floor_read said 0, so PQgetResult does not block.
    PGresult *result = PQgetResult(conn);
    if (result == NULL) {
        // The statement's end (ReadyForQuery): the connection is ready for the next.
        if (*results != 1) return lpqw_fail(error, "floor: %d results", *results);
        return 1;
    }
    if (++*results != 1) {
        PQclear(result);
        return lpqw_fail(error, "floor: a second result");
    }
    if (lpqw_expect_int4(conn, result, n + 1, error) != 0) return -1;
    return 0;
}

int lpqw_poller_open(lpqw_connection *connection, int descriptors[2], lpqw_error *error) {
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) return lpqw_fail(error, "floor: epoll_create1: %s", strerror(errno));
    int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) {
        int saved = errno;
        close(epoll);
        return lpqw_fail(error, "floor: eventfd: %s", strerror(saved));
    }
    struct epoll_event wake_event = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
    // The socket is in the set from the start, with no interest until lpqw_poller_arm (the kernel may still report
    // an error or hang-up on it once, which the Swift side ignores when no task waits).
    struct epoll_event socket_event = {.events = EPOLLONESHOT, .data.u64 = SOCKET_TAG};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &wake_event) != 0
        || epoll_ctl(epoll, EPOLL_CTL_ADD, PQsocket(connection->conn), &socket_event) != 0) {
        int saved = errno;
        close(wake);
        close(epoll);
        return lpqw_fail(error, "floor: epoll_ctl: %s", strerror(saved));
    }
    descriptors[0] = epoll;
    descriptors[1] = wake;
    return 0;
}

int lpqw_poller_arm(int epoll, lpqw_connection *connection) {
    struct epoll_event event = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = SOCKET_TAG};
    return epoll_ctl(epoll, EPOLL_CTL_MOD, PQsocket(connection->conn), &event);
}

int lpqw_poller_wait(int epoll, int wake) {
    struct epoll_event event;
    int count;
    do {
        count = epoll_wait(epoll, &event, 1, -1);
    } while (count < 0 && errno == EINTR);
    if (count < 0) return -1;
    if (event.data.u64 == SOCKET_TAG) return 1;
    uint64_t value;
    while (read(wake, &value, sizeof value) < 0 && errno == EINTR) {}
    return 0;
}

void lpqw_poller_wake(int wake) {
    uint64_t one = 1;
    while (write(wake, &one, sizeof one) < 0 && errno == EINTR) {}
}

void lpqw_poller_close(int descriptors[2]) {
    close(descriptors[1]);
    close(descriptors[0]);
}
