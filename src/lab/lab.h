/* lab.h -- what the four lab programs share besides sockets: the program
 * name, one-line errors and usage errors, number options, the event log,
 * a monotonic clock, the signal self-pipe, the readiness line and the
 * deterministic filler text.
 *
 * Part of the synack lab (src/lab/README.md). Exit codes of every lab
 * program: LAB_EXIT_OK, LAB_EXIT_FAIL (a runtime failure), LAB_EXIT_USAGE. */
#ifndef SYNACK_LAB_LAB_H
#define SYNACK_LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_EXIT_OK 0
#define LAB_EXIT_FAIL 1
#define LAB_EXIT_USAGE 2

/* The running program's name, set once by main() before anything else. */
extern const char *lab_prog;
/* When false, lab_log() prints nothing (the -q option). */
extern bool lab_log_enabled;

/* Print "PROG: MESSAGE" on stderr as one write. */
__attribute__((format(printf, 1, 2))) void lab_error(const char *fmt, ...);

/* Print "PROG: MESSAGE" and "Try 'PROG --help'." on stderr, then exit with
 * LAB_EXIT_USAGE. */
__attribute__((format(printf, 1, 2), noreturn)) void lab_usage_error(const char *fmt, ...);

/* One event line "PROG: MESSAGE" on stderr, unless -q silenced the log. */
__attribute__((format(printf, 1, 2))) void lab_log(const char *fmt, ...);

/* Parse `arg`, the value of option `opt`, as a decimal integer in
 * [min, max]. On anything else (sign where min >= 0, junk, overflow) this is
 * a usage error: message and exit 2. */
long lab_opt_long(const char *opt, const char *arg, long min, long max);

/* Milliseconds from CLOCK_MONOTONIC: for timeouts, never for dates. */
int64_t lab_now_ms(void);

/* Milliseconds left until `deadline_ms` as a poll() timeout: 0 when passed,
 * capped at one hour. */
int lab_poll_timeout(int64_t deadline_ms);

/* Install SIGINT and SIGTERM handlers that only write the signal number to
 * a non-blocking self-pipe, and ignore SIGPIPE. Returns the pipe's read end
 * for poll(), or -1 with `err` (NET_ERR_LEN bytes) filled. Call once. */
int lab_signal_pipe(char *err);

/* Drain the self-pipe `fd`; returns true if a signal was recorded. */
bool lab_signal_taken(int fd);

/* Print the readiness line for listening socket `fd` on stdout and flush:
 * "listening on ADDR port PORT". The only line a lab server ever writes to
 * stdout. Returns 0, or -1 with `err` filled. */
int lab_announce_listening(char *err, int fd);

/* Fill `buf` with `len` bytes of the lab's deterministic printable text,
 * as found at byte `offset` of an endless stream: lines of 63 characters
 * from [0-9a-zA-Z] (each line starting one character further) and a '\n'. */
void lab_filler(unsigned char *buf, size_t len, uint64_t offset);

#endif
