/* lab.c -- shared plumbing of the lab programs: errors, options, log,
 * clock, signals, readiness line and filler text.
 *
 * Part of the synack lab; see lab.h. */
#include "lab.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *lab_prog = "synack-lab";
bool lab_log_enabled = true;

/* Write end of the self-pipe; the signal handler's only state. */
static int lab_sigpipe_w = -1;

/* Format "PROG: MESSAGE\n" into one buffer and write it at once, so lines
 * of concurrent writers never interleave. */
static void lab_vline(const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s: ", lab_prog);
    size_t len;

    if (n < 0)
        return;
    len = (size_t)n;
    n = vsnprintf(line + len, sizeof line - len, fmt, ap);
    if (n < 0)
        return;
    len += (size_t)n;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* stderr is unbuffered; a failed log write has nowhere to be reported. */
    if (write(STDERR_FILENO, line, len) < 0)
        return;
}

void lab_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lab_vline(fmt, ap);
    va_end(ap);
}

void lab_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lab_vline(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help'.\n", lab_prog);
    exit(LAB_EXIT_USAGE);
}

void lab_log(const char *fmt, ...)
{
    va_list ap;

    if (!lab_log_enabled)
        return;
    va_start(ap, fmt);
    lab_vline(fmt, ap);
    va_end(ap);
}

long lab_opt_long(const char *opt, const char *arg, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    /* Digits only (and a '-' where negatives are allowed): strtol() alone
     * would also take " 5", "+5" and "-0". */
    bool digits = (arg[0] >= '0' && arg[0] <= '9') || (min < 0 && arg[0] == '-');
    if (!digits || *end != '\0' || errno != 0 || v < min || v > max)
        lab_usage_error("invalid %s '%s' (expected a number from %ld to %ld)", opt, arg, min, max);
    return v;
}

int64_t lab_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lab_poll_timeout(int64_t deadline_ms)
{
    int64_t left = deadline_ms - lab_now_ms();

    if (left < 0)
        return 0;
    if (left > 3600000)
        return 3600000;
    return (int)left;
}

/* Async-signal-safe: one write(), errno preserved, no stdio. */
static void lab_on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;

    if (write(lab_sigpipe_w, &b, 1) < 0) {
        /* Pipe full: a signal is already pending, nothing is lost. */
    }
    errno = saved;
}

int lab_signal_pipe(char *err)
{
    struct sigaction sa;
    int p[2];

    if (pipe(p) == -1) {
        snprintf(err, NET_ERR_LEN, "pipe: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
    }
    lab_sigpipe_w = p[1];
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = lab_on_signal;
    /* No SA_RESTART: poll() returns EINTR and the loop looks at the pipe. */
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1) {
        snprintf(err, NET_ERR_LEN, "sigaction: %s", strerror(errno));
        return -1;
    }
    /* Writes to a closed connection must fail with EPIPE, not kill us
     * (sendfile() has no MSG_NOSIGNAL). */
    signal(SIGPIPE, SIG_IGN);
    return p[0];
}

bool lab_signal_taken(int fd)
{
    unsigned char buf[64];
    bool got = false;

    while (read(fd, buf, sizeof buf) > 0)
        got = true;
    return got;
}

int lab_announce_listening(char *err, int fd)
{
    char ip[NET_ADDR_LEN];
    int port;

    if (net_sock_name(err, fd, false, ip, sizeof ip, &port) == NET_ERR)
        return -1;
    printf("listening on %s port %d\n", ip, port);
    if (fflush(stdout) == EOF) {
        snprintf(err, NET_ERR_LEN, "cannot write the readiness line: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void lab_filler(unsigned char *buf, size_t len, uint64_t offset)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const uint64_t nalpha = sizeof alphabet - 1; /* 62 */

    for (size_t i = 0; i < len; i++) {
        uint64_t pos = offset + i, line = pos / 64, col = pos % 64;
        buf[i] = col == 63 ? '\n' : (unsigned char)alphabet[(line + col) % nalpha];
    }
}
