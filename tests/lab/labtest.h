/* labtest.h -- helpers for the lab's live tests: start the lab programs,
 * read a server's readiness line, run a client and collect its output,
 * count a process's descriptors, talk over loopback.
 *
 * Part of the synack lab tests (tests/lab). Failures inside a helper are
 * cmocka assertions, so they fail the calling test. Never a fixed port:
 * servers bind port 0 and the port comes from the readiness line. */
#ifndef SYNACK_LABTEST_H
#define SYNACK_LABTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

/* A lab server running as a child process. */
struct labtest_server {
    pid_t pid;
    int port;      /* from the readiness line */
    int out;       /* read end of its stdout, after the readiness line */
    char addr[64]; /* ADDR from the readiness line */
};

/* What a finished program left behind. */
struct labtest_run {
    int status;      /* exit code, or 128 + signal number */
    char out[16384]; /* stdout, NUL-terminated (cut if longer) */
    char err[16384]; /* stderr, NUL-terminated (cut if longer) */
    int64_t ms;      /* wall time it ran */
};

/* Path of lab program `prog` (e.g. "synack-echo-server") in the build
 * directory, or in $SYNACK_LAB_BIN_DIR when set (to test other builds).
 * Points into a static buffer. */
const char *labtest_bin(const char *prog);

/* Start `prog` with the NULL-terminated `args` (not counting argv[0]) and
 * wait (bounded) for its readiness line "listening on ADDR port PORT". */
void labtest_server_start(struct labtest_server *srv, const char *prog, const char *const *args);

/* SIGTERM the server, wait (bounded) for it, and assert it exited 0 and
 * printed nothing on stdout after the readiness line. */
void labtest_server_stop(struct labtest_server *srv);

/* True while the process runs (not exited, not a zombie reaped here). */
bool labtest_alive(pid_t pid);

/* Number of open descriptors of `pid` (entries in /proc/PID/fd). */
int labtest_fd_count(pid_t pid);

/* Wait until `pid` has exactly `want` descriptors, polling /proc for at
 * most `timeout_ms`. Returns the last count seen. */
int labtest_wait_fd_count(pid_t pid, int want, int timeout_ms);

/* Start `prog` with `args` in the background, stdin from /dev/null, with
 * stdout and stderr captured; collect it with labtest_finish(). */
pid_t labtest_spawn(const char *prog, const char *const *args, const char *cwd,
                    const char *stdin_text, int *out_fd, int *err_fd);

/* Read the spawned program's output to EOF and reap it, for at most
 * `timeout_ms` (then it is killed and the test fails). */
void labtest_finish(struct labtest_run *r, pid_t pid, int out_fd, int err_fd, int timeout_ms);

/* Run `prog` to completion: labtest_spawn() then labtest_finish(). */
void labtest_run(struct labtest_run *r, const char *prog, const char *const *args, const char *cwd,
                 const char *stdin_text, int timeout_ms);

/* A blocking TCP connection to 127.0.0.1:`port`. */
int labtest_connect(int port);

/* A listening socket on 127.0.0.1 port 0; its port in *port. */
int labtest_listen(int *port);

/* Accept one connection on `lfd`, waiting at most `timeout_ms`. */
int labtest_accept(int lfd, int timeout_ms);

/* Send all of `buf` on a blocking socket. */
void labtest_send(int fd, const void *buf, size_t len);

/* Read until EOF (or `cap` bytes) with a bounded wait per read. Returns
 * the byte count; *err gets 0 at EOF or the errno that ended it. */
size_t labtest_recv_all(int fd, void *buf, size_t cap, int timeout_ms, int *err);

/* Read exactly `len` bytes with a bounded wait per read; asserts. */
void labtest_recv_exact(int fd, void *buf, size_t len, int timeout_ms);

/* cmocka teardown: SIGKILL and reap every child a test started and did
 * not collect (after a failed assertion). Use with
 * cmocka_unit_test_teardown(test, labtest_teardown). */
int labtest_teardown(void **state);

/* xorshift64*: the tests' seeded PRNG. */
uint64_t labtest_rand(uint64_t *state);

/* Milliseconds from CLOCK_MONOTONIC. */
int64_t labtest_now_ms(void);

#endif
