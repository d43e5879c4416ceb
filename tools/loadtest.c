/* loadtest.c -- synack-loadtest: a bounded load and abuse test of
 * synack-echo-server over loopback. Many concurrent echo clients check
 * every echoed byte and time every round trip; idle clients connect and
 * never send; hogs send megabytes without reading the echo. The server's
 * memory (VmRSS) and descriptors are read from /proc before, during and
 * after, and one report says whether every check held.
 *
 * Part of synack's tools (tools/loadtest builds and runs it). It links
 * nothing of synack's: an independent client of the lab server. Traffic
 * goes to loopback only: it starts its own server, bound to 127.0.0.1 on
 * a free port, and stops it. Exit status: 0 every check held, 1 a check
 * failed, 2 usage error or the test could not be set up. */
#define _GNU_SOURCE /* pipe2() */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LT_EXIT_OK 0
#define LT_EXIT_FAIL 1
#define LT_EXIT_USAGE 2

/* Bytes every stream is cut from; streams wrap around it. */
#define LT_POOL (1u << 20)
/* One recv() at most. */
#define LT_RECV_MAX (256 * 1024)
/* How often the server's RSS and descriptors are sampled. */
#define LT_SAMPLE_MS 20
/* A hog whose sends took nothing for this long has been pushed back. */
#define LT_HOG_STALL_MS 300
/* Longest wait for the readiness line, for the descriptors to return to
 * idle, and for the server to exit after SIGTERM. */
#define LT_READY_MS 10000
#define LT_SETTLE_MS 10000
#define LT_STOP_MS 15000
/* Error lines printed before the rest are only counted. */
#define LT_ERRORS_SHOWN 10
/* Descriptors needed besides the connections (ours and the server's). */
#define LT_FD_SPARE 64

struct lt_opts {
    long clients;      /* --clients: echo clients */
    long messages;     /* --messages: per echo client */
    long size;         /* --size: bytes per message, the last one '\n' */
    long idle;         /* --idle: clients that never send */
    long hogs;         /* --hogs: clients that send without reading */
    long hog_bytes;    /* --hog-bytes: what each hog sends */
    long time_limit_s; /* --time-limit: seconds for the whole run */
    long max_rss_kib;  /* --max-rss-per-client: the memory bound checked */
    const char *server;
};

enum lt_kind { LT_ECHO, LT_IDLE, LT_HOG };
enum lt_state {
    LT_CONNECTING, /* non-blocking connect() in progress */
    LT_RUNNING,    /* echo: messages; idle: waiting; hog: sending (and reading) */
    LT_DRAIN,      /* our FIN is out: expecting the server's FIN, nothing else */
    LT_DONE        /* closed */
};

/* One client connection. A stream is `len` bytes: pool bytes from
 * `start` (wrapping) and a final '\n', so the server's look-out for an
 * "exit" line never holds the end of a message back. */
struct lt_conn {
    int fd;
    enum lt_kind kind;
    enum lt_state state;
    uint32_t interest;    /* epoll events currently registered */
    uint64_t start, len;  /* echo: of the current message; hog: of all */
    uint64_t sent, recvd; /* bytes of the stream sent, echo bytes checked */
    long msg;             /* echo: index of the current message */
    int64_t t0_ns;        /* echo: when the current message went out */
    int64_t progress_ms;  /* hog: when a send last took bytes */
    bool reading;         /* hog: now reading its echo */
    uint64_t unread_peak; /* hog: bytes sent before it started reading */
};

struct lt {
    struct lt_opts o;
    pid_t server;      /* the echo server, 0 once reaped */
    int server_status; /* its wait status once reaped */
    int server_out;    /* its stdout, after the readiness line */
    int port;          /* from the readiness line */
    int ep;            /* epoll */
    struct lt_conn *conns;
    size_t nconns;
    long echo_left, hogs_left, idle_pending; /* unfinished; idle: not yet connected */
    uint32_t *lat_us;                        /* one round trip per echoed message */
    size_t nlat;
    uint64_t echo_bytes; /* echo clients: payload bytes echoed */
    int64_t t_first_ns;  /* first message sent */
    int64_t t_last_ns;   /* last echo completed */
    long errors;         /* connection-level failures */
    long kind_errors[3]; /* the same, by enum lt_kind */
    bool timed_out;
    /* /proc samples of the server */
    long rss_before_kib, rss_peak_kib, rss_after_kib;
    int fds_idle, fds_peak, fds_after;
    double cpu_s;
};

static unsigned char pool[LT_POOL];
static const char *lt_prog = "synack-loadtest";

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */
/* ------------------------------------------------------------------------ */

static int64_t lt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t lt_now_ms(void)
{
    return lt_now_ns() / 1000000;
}

static void lt_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

__attribute__((format(printf, 1, 2), noreturn)) static void lt_die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", lt_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(LT_EXIT_USAGE);
}

__attribute__((format(printf, 1, 2), noreturn)) static void lt_usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", lt_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", lt_prog);
    exit(LT_EXIT_USAGE);
}

static long lt_opt_long(const char *opt, const char *arg, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (!(arg[0] >= '0' && arg[0] <= '9') || *end != '\0' || errno != 0 || v < min || v > max)
        lt_usage_error("invalid %s '%s' (expected a number from %ld to %ld)", opt, arg, min, max);
    return v;
}

/* xorshift64*: deterministic streams. */
static uint64_t lt_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Every byte value but '\n' and 'x': no stream ever holds the line
 * "exit", and only the final byte of a stream ends a line there. */
static void lt_fill_pool(void)
{
    uint64_t st = 0x10adu;

    for (size_t i = 0; i < LT_POOL; i++) {
        unsigned char b = (unsigned char)(lt_rand(&st) >> 56);
        pool[i] = b == '\n' || b == 'x' ? (unsigned char)'y' : b;
    }
}

/* ------------------------------------------------------------------------ */
/* the server under test, through /proc                                     */
/* ------------------------------------------------------------------------ */

/* VmRSS of `pid` in KiB, or -1. */
static long lt_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Open descriptors of `pid`, or -1. */
static int lt_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* User plus system CPU seconds of `pid`, or -1. */
static double lt_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long ut, st;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces: 14 and 15
     * are utime and stime. */
    const char *p = strrchr(buf, ')');
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* True while the server runs; reaps it once it has exited. */
static bool lt_server_alive(struct lt *t)
{
    if (t->server == 0)
        return false;
    if (waitpid(t->server, &t->server_status, WNOHANG) == 0)
        return true;
    t->server = 0;
    return false;
}

/* Start the server on 127.0.0.1 port 0 and read its readiness line. */
static void lt_server_start(struct lt *t)
{
    char backlog[32], line[256], addr[64];
    int out[2];
    size_t len = 0;
    int64_t deadline = lt_now_ms() + LT_READY_MS;
    long total = t->o.clients + t->o.idle + t->o.hogs;

    snprintf(backlog, sizeof backlog, "%ld", total < 128 ? 128 : total > 65535 ? 65535 : total);
    if (pipe2(out, O_CLOEXEC) == -1)
        lt_die("pipe: %s", strerror(errno));
    fflush(NULL);
    t->server = fork();
    if (t->server == -1)
        lt_die("fork: %s", strerror(errno));
    if (t->server == 0) {
        const char *argv[] = {t->o.server, "--bind", "127.0.0.1", "--port", "0",
                              "--backlog", backlog,  "-q",        NULL};
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        dup2(out[1], STDOUT_FILENO);
        execv(t->o.server, (char *const *)argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", lt_prog, t->o.server, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    t->server_out = out[0];
    /* Byte by byte up to the newline: nothing after it is consumed. */
    while (len == 0 || line[len - 1] != '\n') {
        struct pollfd p = {.fd = t->server_out, .events = POLLIN};
        int64_t left = deadline - lt_now_ms();
        if (left <= 0)
            lt_die("no readiness line from %s within %d ms", t->o.server, LT_READY_MS);
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (read(t->server_out, line + len, 1) != 1)
            lt_die("%s exited before its readiness line", t->o.server);
        if (++len == sizeof line - 1)
            lt_die("readiness line too long");
    }
    line[len] = '\0';
    if (sscanf(line, "listening on %63s port %d", addr, &t->port) != 2 || t->port <= 0 ||
        t->port > 65535 || strcmp(addr, "127.0.0.1") != 0)
        lt_die("unexpected readiness line: %s", line);
}

/* SIGTERM the server and wait for it. Returns true if it exited 0 and
 * wrote nothing more on stdout. */
static bool lt_server_stop(struct lt *t, char *why, size_t whylen)
{
    int64_t deadline = lt_now_ms() + LT_STOP_MS;
    char rest[64];

    if (t->server != 0)
        kill(t->server, SIGTERM);
    while (lt_server_alive(t) && lt_now_ms() < deadline)
        lt_sleep_ms(5);
    if (t->server != 0) {
        kill(t->server, SIGKILL);
        waitpid(t->server, &t->server_status, 0);
        t->server = 0;
        snprintf(why, whylen, "did not exit within %d ms of SIGTERM", LT_STOP_MS);
        return false;
    }
    if (WIFSIGNALED(t->server_status)) {
        snprintf(why, whylen, "killed by signal %d", WTERMSIG(t->server_status));
        return false;
    }
    if (WEXITSTATUS(t->server_status) != 0) {
        snprintf(why, whylen, "exit status %d", WEXITSTATUS(t->server_status));
        return false;
    }
    if (read(t->server_out, rest, sizeof rest) != 0) {
        snprintf(why, whylen, "wrote to stdout after its readiness line");
        return false;
    }
    snprintf(why, whylen, "exit status 0 after SIGTERM");
    return true;
}

/* One sample: peak RSS and descriptors; false if the server is gone. */
static bool lt_sample(struct lt *t)
{
    if (!lt_server_alive(t))
        return false;
    long rss = lt_rss_kib(t->server);
    int fds = lt_fd_count(t->server);
    if (rss > t->rss_peak_kib)
        t->rss_peak_kib = rss;
    if (fds > t->fds_peak)
        t->fds_peak = fds;
    return true;
}

/* ------------------------------------------------------------------------ */
/* client connections                                                       */
/* ------------------------------------------------------------------------ */

/* A connection failed: count it, show the first few, close it. */
__attribute__((format(printf, 3, 4))) static void lt_fail(struct lt *t, struct lt_conn *c,
                                                          const char *fmt, ...)
{
    static const char *const kinds[] = {"echo client", "idle client", "hog"};
    va_list ap;

    t->kind_errors[c->kind]++;
    if (t->errors++ < LT_ERRORS_SHOWN) {
        fprintf(stderr, "%s: %s %zu: ", lt_prog, kinds[c->kind], (size_t)(c - t->conns));
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    if (c->kind == LT_ECHO && c->state != LT_DONE)
        t->echo_left--;
    if (c->kind == LT_HOG && c->state != LT_DONE)
        t->hogs_left--;
    if (c->kind == LT_IDLE && c->state == LT_CONNECTING)
        t->idle_pending--;
    if (c->fd != -1)
        close(c->fd);
    c->fd = -1;
    c->state = LT_DONE;
}

static void lt_want(struct lt *t, struct lt_conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};

    if (ev == c->interest)
        return;
    if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &e) == -1)
        lt_die("epoll_ctl: %s", strerror(errno));
    c->interest = ev;
}

/* Where message `m` of echo client `i` starts in the pool. */
static uint64_t lt_msg_start(size_t i, long m)
{
    uint64_t st = ((uint64_t)i << 32 | (uint64_t)m) * 0x9E3779B97F4A7C15ULL + 1;

    return lt_rand(&st) % LT_POOL;
}

/* Send what the socket takes of the stream: pool bytes, then the final
 * '\n' in the same call when they reach it. Returns false after lt_fail. */
static bool lt_send(struct lt *t, struct lt_conn *c)
{
    static unsigned char nl = '\n';

    while (c->sent < c->len) {
        struct iovec iov[2];
        struct msghdr mh = {.msg_iov = iov};
        uint64_t body = c->len - 1; /* pool bytes before the '\n' */
        if (c->sent < body) {
            size_t pos = (size_t)((c->start + c->sent) % LT_POOL);
            uint64_t span = LT_POOL - pos;
            if (span > body - c->sent)
                span = body - c->sent;
            iov[mh.msg_iovlen++] = (struct iovec){.iov_base = pool + pos, .iov_len = span};
            if (c->sent + span == body)
                iov[mh.msg_iovlen++] = (struct iovec){.iov_base = &nl, .iov_len = 1};
        } else {
            iov[mh.msg_iovlen++] = (struct iovec){.iov_base = &nl, .iov_len = 1};
        }
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return true;
            lt_fail(t, c, "send failed after %llu of %llu bytes: %s", (unsigned long long)c->sent,
                    (unsigned long long)c->len, strerror(errno));
            return false;
        }
        c->sent += (uint64_t)n;
        if (c->kind == LT_HOG)
            c->progress_ms = lt_now_ms();
    }
    return true;
}

/* True if the `n` bytes at `p` are the stream's bytes from c->recvd on. */
static bool lt_matches(const struct lt_conn *c, const unsigned char *p, size_t n)
{
    uint64_t off = c->recvd, body = c->len - 1;

    while (n > 0) {
        if (off >= body)
            return n == 1 && p[0] == '\n';
        size_t pos = (size_t)((c->start + off) % LT_POOL);
        uint64_t span = LT_POOL - pos;
        if (span > body - off)
            span = body - off;
        if (span > n)
            span = n;
        if (memcmp(p, pool + pos, (size_t)span) != 0)
            return false;
        p += span;
        n -= (size_t)span;
        off += span;
    }
    return true;
}

/* Our FIN, then wait for the server's. */
static void lt_drain(struct lt *t, struct lt_conn *c)
{
    if (shutdown(c->fd, SHUT_WR) == -1) {
        lt_fail(t, c, "shutdown: %s", strerror(errno));
        return;
    }
    c->state = LT_DRAIN;
    lt_want(t, c, EPOLLIN);
}

/* Echo client: the next message goes out (its round trip starts). */
static void lt_next_message(struct lt *t, struct lt_conn *c)
{
    size_t i = (size_t)(c - t->conns);

    c->start = lt_msg_start(i, c->msg);
    c->len = (uint64_t)t->o.size;
    c->sent = c->recvd = 0;
    c->t0_ns = lt_now_ns();
    if (t->t_first_ns == 0)
        t->t_first_ns = c->t0_ns;
    if (lt_send(t, c))
        lt_want(t, c, EPOLLIN | (c->sent < c->len ? EPOLLOUT : 0u));
}

/* Read and check echo bytes (echo clients, and hogs once reading). */
static void lt_recv(struct lt *t, struct lt_conn *c)
{
    static unsigned char buf[LT_RECV_MAX];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);

    if (n == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            lt_fail(t, c, "recv failed after %llu of %llu echoed bytes: %s",
                    (unsigned long long)c->recvd, (unsigned long long)c->len, strerror(errno));
        return;
    }
    if (n == 0) {
        lt_fail(t, c, "the server closed after %llu of %llu echoed bytes",
                (unsigned long long)c->recvd, (unsigned long long)c->len);
        return;
    }
    if ((uint64_t)n > c->sent - c->recvd) {
        lt_fail(t, c, "%zd bytes of echo, only %llu sent and not yet echoed", n,
                (unsigned long long)(c->sent - c->recvd));
        return;
    }
    if (!lt_matches(c, buf, (size_t)n)) {
        lt_fail(t, c, "echo differs within bytes %llu..%llu", (unsigned long long)c->recvd,
                (unsigned long long)(c->recvd + (uint64_t)n));
        return;
    }
    c->recvd += (uint64_t)n;
    if (c->recvd < c->len)
        return;
    if (c->kind == LT_HOG) {
        lt_drain(t, c);
        return;
    }
    /* A whole message echoed: one round trip. */
    int64_t now = lt_now_ns();
    uint64_t us = (uint64_t)(now - c->t0_ns) / 1000;
    t->lat_us[t->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    t->echo_bytes += c->len;
    t->t_last_ns = now;
    if (++c->msg < t->o.messages)
        lt_next_message(t, c);
    else
        lt_drain(t, c);
}

/* The connection is up: start its work. */
static void lt_connected(struct lt *t, struct lt_conn *c)
{
    c->state = LT_RUNNING;
    switch (c->kind) {
    case LT_ECHO:
        lt_next_message(t, c);
        break;
    case LT_IDLE:
        t->idle_pending--;
        /* Anything at all (data, FIN, RST) means the server broke it. */
        lt_want(t, c, EPOLLIN | EPOLLRDHUP);
        break;
    case LT_HOG:
        c->progress_ms = lt_now_ms();
        if (lt_send(t, c))
            lt_want(t, c, EPOLLOUT);
        break;
    }
}

static void lt_event(struct lt *t, struct lt_conn *c, uint32_t ev)
{
    if (c->state == LT_DONE)
        return;
    if (c->state == LT_CONNECTING) {
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len);
        if (e != 0)
            lt_fail(t, c, "connect failed: %s", strerror(e));
        else if (ev & (EPOLLOUT | EPOLLIN))
            lt_connected(t, c);
        return;
    }
    if (c->state == LT_DRAIN) {
        char b[256];
        ssize_t n = recv(c->fd, b, sizeof b, 0);
        if (n == 0) {
            close(c->fd);
            c->fd = -1;
            c->state = LT_DONE;
            if (c->kind == LT_ECHO)
                t->echo_left--;
            else
                t->hogs_left--;
        } else if (n > 0) {
            lt_fail(t, c, "%zd unexpected bytes after the whole echo", n);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            lt_fail(t, c, "waiting for the server's FIN: %s", strerror(errno));
        }
        return;
    }
    switch (c->kind) {
    case LT_IDLE:
        lt_fail(t, c, "the server closed or wrote to a client that sent nothing");
        return;
    case LT_ECHO:
        if ((ev & EPOLLOUT) && !lt_send(t, c))
            return;
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
            lt_recv(t, c);
        if (c->state == LT_RUNNING && c->kind == LT_ECHO)
            lt_want(t, c, EPOLLIN | (c->sent < c->len ? EPOLLOUT : 0u));
        return;
    case LT_HOG:
        if ((ev & EPOLLOUT) && !lt_send(t, c))
            return;
        if (!c->reading && (ev & (EPOLLERR | EPOLLHUP))) {
            lt_fail(t, c, "connection lost after %llu bytes sent unread",
                    (unsigned long long)c->sent);
            return;
        }
        if (c->reading && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            lt_recv(t, c);
        if (c->state == LT_RUNNING)
            lt_want(t, c, (c->reading ? EPOLLIN : 0u) | (c->sent < c->len ? EPOLLOUT : 0u));
        return;
    }
}

/* Create every client socket and start its connect(). Idle clients first,
 * then hogs, then echo clients: the abusers are in place before the work. */
static void lt_connect_all(struct lt *t)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
    size_t k = 0;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int pass = 0; pass < 3; pass++) {
        enum lt_kind kind = pass == 0 ? LT_IDLE : pass == 1 ? LT_HOG : LT_ECHO;
        long count = pass == 0 ? t->o.idle : pass == 1 ? t->o.hogs : t->o.clients;
        for (long i = 0; i < count; i++, k++) {
            struct lt_conn *c = &t->conns[k];
            c->kind = kind;
            c->state = LT_CONNECTING;
            if (kind == LT_HOG) {
                uint64_t st = 0x40600 + (uint64_t)k;
                c->start = lt_rand(&st) % LT_POOL;
                c->len = (uint64_t)t->o.hog_bytes;
            }
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c->fd == -1)
                lt_die("socket: %s (descriptors: raise ulimit -n)", strerror(errno));
            struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
            c->interest = EPOLLOUT;
            if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &e) == -1)
                lt_die("epoll_ctl: %s", strerror(errno));
            if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == -1 && errno != EINPROGRESS)
                lt_fail(t, c, "connect failed: %s", strerror(errno));
        }
    }
}

/* Echo clients done: hogs that have been pushed back (no send progress
 * for LT_HOG_STALL_MS) or sent everything start reading their echo. */
static void lt_release_hogs(struct lt *t, int64_t now)
{
    for (size_t k = 0; k < t->nconns; k++) {
        struct lt_conn *c = &t->conns[k];
        if (c->kind != LT_HOG || c->state != LT_RUNNING || c->reading)
            continue;
        if (c->sent < c->len && now - c->progress_ms < LT_HOG_STALL_MS)
            continue;
        c->reading = true;
        c->unread_peak = c->sent;
        lt_want(t, c, EPOLLIN | (c->sent < c->len ? EPOLLOUT : 0u));
    }
}

/* True once the server holds a connection for every idle client still
 * open (they are accepted, not just queued), so their check means it. */
static bool lt_idle_held(const struct lt *t)
{
    int open = 0;

    for (size_t k = 0; k < t->nconns; k++)
        open += t->conns[k].kind == LT_IDLE && t->conns[k].state == LT_RUNNING;
    return open == 0 || lt_fd_count(t->server) >= t->fds_idle + open;
}

/* Run every client to its end or until the deadline. */
static void lt_run(struct lt *t, int64_t deadline_ms)
{
    struct epoll_event evs[256];
    int64_t next_sample = 0;

    lt_connect_all(t);
    for (;;) {
        int64_t now = lt_now_ms();
        if (now >= next_sample) {
            if (!lt_sample(t))
                return; /* the server died: reported by the caller */
            next_sample = now + LT_SAMPLE_MS;
        }
        if (t->echo_left == 0)
            lt_release_hogs(t, now);
        if (t->echo_left == 0 && t->hogs_left == 0 && t->idle_pending == 0 && lt_idle_held(t))
            break;
        if (now >= deadline_ms) {
            t->timed_out = true;
            break;
        }
        int64_t wait = next_sample - now;
        if (wait > deadline_ms - now)
            wait = deadline_ms - now;
        int n = epoll_wait(t->ep, evs, (int)(sizeof evs / sizeof evs[0]), (int)wait);
        if (n == -1 && errno != EINTR)
            lt_die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            lt_event(t, evs[i].data.ptr, evs[i].events);
    }
    /* Idle clients were watched all along; they leave last. */
    (void)lt_sample(t);
    for (size_t k = 0; k < t->nconns; k++) {
        struct lt_conn *c = &t->conns[k];
        if (c->fd != -1) {
            close(c->fd);
            c->fd = -1;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* options and report                                                       */
/* ------------------------------------------------------------------------ */

static void lt_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Load and abuse test of synack-echo-server over loopback. Starts its own server\n"
           "(127.0.0.1, a free port), then at once: echo clients that each send messages\n"
           "one after another and check every echoed byte, idle clients that connect and\n"
           "send nothing, and hogs that send without reading the echo (then read it all\n"
           "once the echo clients are done). Reads the server's memory and descriptors\n"
           "from /proc, prints a report and the checks.\n"
           "\n"
           "  --clients N              echo clients (default 1000)\n"
           "  --messages N             messages per echo client (default 100)\n"
           "  --size BYTES             bytes per message, the last one '\\n' (default 512)\n"
           "  --idle N                 clients that connect and send nothing (default 100)\n"
           "  --hogs N                 clients that send without reading (default 4)\n"
           "  --hog-bytes BYTES        bytes each hog sends (default 10485760)\n"
           "  --time-limit S           the whole run must end within S seconds (default 120)\n"
           "  --max-rss-per-client KIB the server's RSS growth per client allowed\n"
           "                           (default 80: a 64 KiB echo buffer and its struct)\n"
           "  --server PATH            the server to test (default: synack-echo-server\n"
           "                           beside this program)\n"
           "  -h, --help               show this help and exit\n"
           "\n"
           "Exit status: 0 every check held, 1 a check failed, 2 usage error or the test\n"
           "could not be set up.\n",
           lt_prog);
}

static void lt_parse(int argc, char **argv, struct lt_opts *o)
{
    enum {
        OPT_CLIENTS = 256,
        OPT_MESSAGES,
        OPT_SIZE,
        OPT_IDLE,
        OPT_HOGS,
        OPT_HOG_BYTES,
        OPT_TIME,
        OPT_RSS,
        OPT_SERVER
    };
    static const struct option longopts[] = {
        {"clients", required_argument, NULL, OPT_CLIENTS},
        {"messages", required_argument, NULL, OPT_MESSAGES},
        {"size", required_argument, NULL, OPT_SIZE},
        {"idle", required_argument, NULL, OPT_IDLE},
        {"hogs", required_argument, NULL, OPT_HOGS},
        {"hog-bytes", required_argument, NULL, OPT_HOG_BYTES},
        {"time-limit", required_argument, NULL, OPT_TIME},
        {"max-rss-per-client", required_argument, NULL, OPT_RSS},
        {"server", required_argument, NULL, OPT_SERVER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char beside[PATH_MAX];
    int c;

    *o = (struct lt_opts){.clients = 1000,
                          .messages = 100,
                          .size = 512,
                          .idle = 100,
                          .hogs = 4,
                          .hog_bytes = 10485760,
                          .time_limit_s = 120,
                          .max_rss_kib = 80};
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CLIENTS:
            o->clients = lt_opt_long("--clients", optarg, 0, 20000);
            break;
        case OPT_MESSAGES:
            o->messages = lt_opt_long("--messages", optarg, 1, 100000);
            break;
        case OPT_SIZE:
            o->size = lt_opt_long("--size", optarg, 1, 1 << 20);
            break;
        case OPT_IDLE:
            o->idle = lt_opt_long("--idle", optarg, 0, 20000);
            break;
        case OPT_HOGS:
            o->hogs = lt_opt_long("--hogs", optarg, 0, 1000);
            break;
        case OPT_HOG_BYTES:
            o->hog_bytes = lt_opt_long("--hog-bytes", optarg, 1, 1L << 30);
            break;
        case OPT_TIME:
            o->time_limit_s = lt_opt_long("--time-limit", optarg, 1, 3600);
            break;
        case OPT_RSS:
            o->max_rss_kib = lt_opt_long("--max-rss-per-client", optarg, 1, 1 << 20);
            break;
        case OPT_SERVER:
            o->server = optarg;
            break;
        case 'h':
            lt_usage();
            exit(LT_EXIT_OK);
        default:
            fprintf(stderr, "Try '%s --help'.\n", lt_prog);
            exit(LT_EXIT_USAGE);
        }
    }
    if (optind < argc)
        lt_usage_error("unexpected argument '%s'", argv[optind]);
    if (o->clients * o->messages > 10000000)
        lt_usage_error("--clients times --messages is at most 10000000");
    if (o->clients + o->idle + o->hogs == 0)
        lt_usage_error("nothing to do (no clients, idle clients or hogs)");
    if (o->server == NULL) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            lt_die("cannot find this program's directory; use --server PATH");
        self[n] = '\0';
        snprintf(beside, sizeof beside, "%s/synack-echo-server", dirname(self));
        o->server = beside;
    }
}

/* Enough descriptors for every connection here and in the server, which
 * inherits the limit. */
static void lt_raise_nofile(const struct lt_opts *o)
{
    rlim_t need = (rlim_t)(o->clients + o->idle + o->hogs + LT_FD_SPARE);
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        lt_die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        struct rlimit want = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) /* root may raise the hard limit */
            return;
        lt_die("needs %llu descriptors, the hard limit is %llu (ulimit -Hn); use fewer clients",
               (unsigned long long)need, (unsigned long long)rl.rlim_max);
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        lt_die("cannot raise the descriptor limit to %llu: %s", (unsigned long long)need,
               strerror(errno));
}

static int lt_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile `p` of the sorted samples, in ms. */
static double lt_pct_ms(const uint32_t *v, size_t n, double p)
{
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);

    if (rank == 0)
        rank = 1;
    return (double)v[rank - 1] / 1000.0;
}

static int lt_check(bool ok, const char *what)
{
    printf("  %-4s %s\n", ok ? "ok" : "FAIL", what);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct lt t;
    char why[128], line[256];
    int failed = 0;

    memset(&t, 0, sizeof t);
    lt_parse(argc, argv, &t.o);
    signal(SIGPIPE, SIG_IGN);
    lt_raise_nofile(&t.o);
    lt_fill_pool();
    t.nconns = (size_t)(t.o.clients + t.o.idle + t.o.hogs);
    t.conns = calloc(t.nconns, sizeof *t.conns);
    t.lat_us = malloc((size_t)(t.o.clients * t.o.messages + 1) * sizeof *t.lat_us);
    if (t.conns == NULL || t.lat_us == NULL)
        lt_die("out of memory");
    for (size_t k = 0; k < t.nconns; k++)
        t.conns[k].fd = -1;
    t.echo_left = t.o.clients;
    t.hogs_left = t.o.hogs;
    t.idle_pending = t.o.idle;
    t.ep = epoll_create1(EPOLL_CLOEXEC);
    if (t.ep == -1)
        lt_die("epoll_create1: %s", strerror(errno));

    lt_server_start(&t);
    lt_sleep_ms(100); /* let it settle before the idle figures */
    t.fds_idle = t.fds_peak = lt_fd_count(t.server);
    t.rss_before_kib = t.rss_peak_kib = lt_rss_kib(t.server);
    printf("%s: %s (pid %d) on 127.0.0.1 port %d\n", lt_prog, t.o.server, (int)t.server, t.port);
    printf("load: %ld echo clients x %ld messages of %ld bytes, %ld idle clients, "
           "%ld hogs x %ld bytes sent without reading; time limit %ld s\n",
           t.o.clients, t.o.messages, t.o.size, t.o.idle, t.o.hogs, t.o.hog_bytes,
           t.o.time_limit_s);
    fflush(stdout);

    int64_t t0 = lt_now_ms();
    lt_run(&t, t0 + t.o.time_limit_s * 1000);
    int64_t run_ms = lt_now_ms() - t0;
    bool alive = lt_server_alive(&t);

    /* After: every client gone, the server must be back to idle. */
    int64_t settle = lt_now_ms() + LT_SETTLE_MS;
    if (alive) {
        while ((t.fds_after = lt_fd_count(t.server)) != t.fds_idle && lt_now_ms() < settle)
            lt_sleep_ms(10);
        lt_sleep_ms(100);
        t.rss_after_kib = lt_rss_kib(t.server);
        t.cpu_s = lt_cpu_s(t.server);
        alive = lt_server_alive(&t);
    }
    bool stopped = alive && lt_server_stop(&t, why, sizeof why);
    if (!alive && WIFSIGNALED(t.server_status))
        snprintf(why, sizeof why, "the server died during the run: signal %d",
                 WTERMSIG(t.server_status));
    else if (!alive)
        snprintf(why, sizeof why, "the server exited during the run: status %d",
                 WEXITSTATUS(t.server_status));

    /* Report. */
    double secs = t.t_last_ns > t.t_first_ns ? (double)(t.t_last_ns - t.t_first_ns) / 1e9 : 0;
    long expected = t.o.clients * t.o.messages;
    printf("run: %.2f s wall, server CPU %.2f s\n", (double)run_ms / 1000.0, t.cpu_s);
    if (t.nlat > 0 && secs > 0) {
        qsort(t.lat_us, t.nlat, sizeof *t.lat_us, lt_cmp_u32);
        printf("throughput: %zu messages in %.2f s: %.0f messages/s, %.2f MB/s each way "
               "(%.1f MB echoed)\n",
               t.nlat, secs, (double)t.nlat / secs, (double)t.echo_bytes / secs / 1e6,
               (double)t.echo_bytes / 1e6);
        printf("latency per message round trip: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, "
               "max %.3f ms\n",
               lt_pct_ms(t.lat_us, t.nlat, 50), lt_pct_ms(t.lat_us, t.nlat, 90),
               lt_pct_ms(t.lat_us, t.nlat, 99), (double)t.lat_us[t.nlat - 1] / 1000.0);
    }
    if (t.o.hogs > 0) {
        uint64_t lo = UINT64_MAX, hi = 0;
        long stalled = 0;
        for (size_t k = 0; k < t.nconns; k++) {
            const struct lt_conn *c = &t.conns[k];
            if (c->kind != LT_HOG || !c->reading)
                continue;
            lo = c->unread_peak < lo ? c->unread_peak : lo;
            hi = c->unread_peak > hi ? c->unread_peak : hi;
            stalled += c->unread_peak < c->len;
        }
        if (hi > 0 && stalled > 0)
            printf("hogs: %.2f to %.2f MB sent without reading; %ld of %ld then stalled "
                   "(socket buffers full: the server reads no more from a client whose "
                   "echo waits)\n",
                   (double)lo / 1e6, (double)hi / 1e6, stalled, t.o.hogs);
        else if (hi > 0)
            printf("hogs: %.2f to %.2f MB sent without reading, all of it taken by the "
                   "socket buffers\n",
                   (double)lo / 1e6, (double)hi / 1e6);
    }
    double per_client = (double)(t.rss_peak_kib - t.rss_before_kib) * 1024.0 / (double)t.nconns;
    printf("server RSS: %ld KiB before, %ld KiB peak during, %ld KiB after: %.0f bytes per "
           "client (%zu clients)\n",
           t.rss_before_kib, t.rss_peak_kib, t.rss_after_kib, per_client, t.nconns);
    printf("server descriptors: %d idle, %d peak, %d after\n", t.fds_idle, t.fds_peak, t.fds_after);
    printf("checks:\n");
    snprintf(line, sizeof line,
             "%ld of %ld messages echoed byte-exact, no lost or corrupted byte (%ld of %ld "
             "echo clients failed)",
             (long)t.nlat, expected, t.kind_errors[LT_ECHO], t.o.clients);
    failed |= lt_check((long)t.nlat == expected && t.kind_errors[LT_ECHO] == 0, line);
    if (t.o.hogs > 0) {
        snprintf(line, sizeof line,
                 "hogs' %ld bytes each echoed byte-exact once they read (%ld of %ld failed or "
                 "unfinished)",
                 t.o.hog_bytes, t.kind_errors[LT_HOG] + t.hogs_left, t.o.hogs);
        failed |= lt_check(t.kind_errors[LT_HOG] == 0 && t.hogs_left == 0, line);
    }
    if (t.o.idle > 0) {
        snprintf(line, sizeof line,
                 "idle clients kept open by the server (%ld of %ld closed, failed or written to)",
                 t.kind_errors[LT_IDLE], t.o.idle);
        failed |= lt_check(t.kind_errors[LT_IDLE] == 0, line);
    }
    snprintf(line, sizeof line, "within the time limit of %ld s", t.o.time_limit_s);
    failed |= lt_check(!t.timed_out, line);
    snprintf(line, sizeof line, "server memory per client at most %ld KiB (%.1f KiB)",
             t.o.max_rss_kib, per_client / 1024.0);
    failed |= lt_check(per_client <= (double)t.o.max_rss_kib * 1024.0, line);
    snprintf(line, sizeof line, "server descriptors back to idle (%d, idle %d)", t.fds_after,
             t.fds_idle);
    failed |= lt_check(alive && t.fds_after == t.fds_idle, line);
    snprintf(line, sizeof line, "server alive throughout and stopped cleanly (%s)", why);
    failed |= lt_check(stopped, line);
    printf("result: %s\n", failed ? "FAIL" : "PASS (every check held)");
    free(t.conns);
    free(t.lat_us);
    close(t.ep);
    close(t.server_out);
    return failed ? LT_EXIT_FAIL : LT_EXIT_OK;
}
