// The benchmark workloads written directly against libpq: the baseline the Swift clients are measured against.
//
// Each function runs one workload on an open connection, synchronously, the way a careful C program would:
// extended protocol (PQexecParams), binary parameters and binary results, values checked and decoded.
// On failure a function returns -1 and writes libpq's message into `error`. The floors' pieces at the end are driven
// from Swift instead.
#ifndef RESILIENT_POSTGRES_LIBPQ_WORKLOADS_H
#define RESILIENT_POSTGRES_LIBPQ_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>

/// Room for one error message.
typedef struct lpqw_error {
    char message[512];
} lpqw_error;

/// One libpq connection (a PGconn), opaque to Swift.
typedef struct lpqw_connection lpqw_connection;

/// Opens a blocking connection with a libpq connection string; NULL on failure.
lpqw_connection *lpqw_connect(const char *conninfo, lpqw_error *error);

/// Closes the connection and frees it.
void lpqw_close(lpqw_connection *connection);

/// Runs SQL text (several statements allowed) through the simple query protocol: for setup.
int lpqw_exec(lpqw_connection *connection, const char *sql, lpqw_error *error);

/// The server's version as an integer (150018 for 15.18).
int lpqw_server_version(lpqw_connection *connection);

/// libpq's version as an integer.
int lpqw_library_version(void);

/// Runs `count` times `SELECT 1` and checks each answer is 1.
int lpqw_select_one(lpqw_connection *connection, int count, lpqw_error *error);

/// Runs `SELECT $1::int4 + 1` for $1 = first, first + 1, ... (`count` times, int8 parameters) and checks each answer.
int lpqw_select_param(lpqw_connection *connection, int64_t first, int count, lpqw_error *error);

/// Reads every row of bench_rows (int4, text, timestamptz) `times` times, decoding each into a C struct with a
/// copied string; returns the number of rows decoded, or -1.
int64_t lpqw_read_rows(lpqw_connection *connection, int times, lpqw_error *error);

/// Runs `count` times `SELECT $1::int4 + 1` in one pipeline (libpq pipeline mode, non-blocking, one Sync) and
/// checks each answer.
int lpqw_pipeline_param(lpqw_connection *connection, int count, lpqw_error *error);

/// Streams `SELECT i, repeat('x', 100) FROM generate_series(1, count)` in single-row mode, decoding each row (the
/// text copied); stores the sum of the ids in `id_sum`; returns the number of rows, or -1.
int64_t lpqw_stream_rows(lpqw_connection *connection, int count, int64_t *id_sum, lpqw_error *error);

/// Loads `count` rows `id\trow id\n` into bench_copy with COPY FROM STDIN in text format, in chunks of about
/// `chunk_size` bytes (PQputCopyData, then PQputCopyEnd); returns the rows the server says it copied, or -1.
int64_t lpqw_copy_in(lpqw_connection *connection, int count, int chunk_size, lpqw_error *error);

/// Inserts `count` rows into bench_insert, one INSERT each, inside one BEGIN ... COMMIT.
int lpqw_insert_transaction(lpqw_connection *connection, int64_t first, int count, lpqw_error *error);

/// Runs `LISTEN` on `listener` first (untimed, by the caller); then sends `count` notifications on `channel` from
/// `sender` in one statement (payloads 1 ... count) and receives them on `listener`, checking their order.
int lpqw_listen_notify(lpqw_connection *listener, lpqw_connection *sender, const char *channel, int count,
                       lpqw_error *error);

/// What the timed part of `lpqw_concurrent_param` took.
typedef struct lpqw_timing {
    /// Wall-clock nanoseconds (CLOCK_MONOTONIC).
    int64_t elapsed_ns;
    /// User and system CPU seconds of the whole process (getrusage).
    double cpu_seconds;
    /// Voluntary and involuntary context switches of the whole process.
    int64_t context_switches;
} lpqw_timing;

/// Opens `threads` connections, each on a thread of its own, runs `warmup` then (after every thread is ready)
/// `count / threads` times `SELECT $1::int4 + 1` on each, and writes what the timed part took.
int lpqw_concurrent_param(
    const char *conninfo, int threads, int warmup, int count, lpqw_timing *timing, lpqw_error *error);

// The floor workloads' pieces: `seq_param` driven from Swift (see LibPQBenchmark+Floor.swift), what an async client
// that waits as ResilientPostgres does cannot do without. The lpqw_floor_* functions and lpqw_poller_open return -1
// and write the message into `error` on failure.

/// Puts the connection in non-blocking mode.
int lpqw_floor_begin(lpqw_connection *connection, lpqw_error *error);

/// Sends `SELECT $1::int4 + 1` with $1 = n (as lpqw_select_param does) and flushes it.
int lpqw_floor_send(lpqw_connection *connection, int64_t n, lpqw_error *error);

/// Reads what has arrived without blocking, unless libpq has enough buffered: 1 while the next result (or the
/// statement's end) is incomplete, 0 once lpqw_floor_take can take it, or -1.
int lpqw_floor_read(lpqw_connection *connection, lpqw_error *error);

/// Takes the next result, which must be the one row n + 1, counting results in `results` (0 before the first): 0
/// after a result, 1 at the statement's end (after exactly one result), or -1.
int lpqw_floor_take(lpqw_connection *connection, int64_t n, int *results, lpqw_error *error);

/// Opens an epoll set with a wake-up eventfd and the connection's socket (disarmed): descriptors[0] is the epoll
/// set, descriptors[1] the eventfd.
int lpqw_poller_open(lpqw_connection *connection, int descriptors[2], lpqw_error *error);

/// Arms the socket for one readiness report (EPOLLIN, one-shot); 0, or -1 with errno.
int lpqw_poller_arm(int epoll, lpqw_connection *connection);

/// Blocks until the socket is readable (1) or the eventfd was written (0, drained); -1 with errno on failure.
int lpqw_poller_wait(int epoll, int wake);

/// Writes the eventfd, ending a lpqw_poller_wait.
void lpqw_poller_wake(int wake);

/// Closes what lpqw_poller_open opened.
void lpqw_poller_close(int descriptors[2]);

#endif
