/* echo_server.c -- synack-echo-server: a TCP echo server serving every
 * client from one poll() loop, with switches that put chosen TCP behaviours
 * on the wire (server closes first, RST, data after FIN, small and zero
 * windows), and deliberate bugs (--bug) that `synack verify` must catch.
 *
 * Part of the synack lab (src/lab/README.md). Memory per client is bounded:
 * one ECHO_OUT_MAX output buffer plus struct echo_client. When a client's
 * output buffer is full (it reads slower than it sends), the server stops
 * reading from it until the buffer drains, so TCP flow control pushes back
 * on that client alone. */
#include "lab.h"
#include "labsrv.h"
#include "net.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Echo bytes waiting to be sent to one client; the per-client memory bound. */
#define ECHO_OUT_MAX (64 * 1024)
/* Longest line start held back because it may still become "exit\r\n". */
#define ECHO_HOLD_MAX 6
/* send() calls per client and loop turn (at most 1 MiB): fairness between clients. */
#define ECHO_TURN_SENDS 16
/* --bug first-1024: bytes echoed per connection. */
#define ECHO_BUG_FIRST 1024

/* Deliberate bugs (--bug NAME), each made for one `synack verify` check to catch. */
enum echo_bug {
    BUG_NONE = 0,
    BUG_NO_CLOSE,      /* never close: every connection stays in CLOSE_WAIT */
    BUG_RST,           /* close with RST instead of FIN */
    BUG_FIRST_1024,    /* echo only the first 1024 bytes of each connection */
    BUG_ONE_AT_A_TIME, /* serve one client at a time; the rest wait in the backlog */
    BUG_NO_LISTEN,     /* announce "listening" but never listen(): SYNs get RST */
};

static const char *const echo_bug_names[] = {"",           "no-close",      "rst",
                                             "first-1024", "one-at-a-time", "no-listen"};

struct echo_opts {
    const char *bind;    /* --bind, NULL for every address */
    int port;            /* --port, 0 picks a free one */
    int backlog;         /* --backlog */
    int rcvbuf;          /* --rcvbuf, 0 keeps the default */
    int pause_ms;        /* --pause-ms: no reading right after accept */
    long send_after_fin; /* --send-after-fin: extra bytes after peer FIN */
    bool upper;          /* --upper: echo upper-cased */
    bool close_first;    /* --close-first: close after the first line */
    bool rst;            /* --rst: every close is an abort (RST) */
    enum echo_bug bug;   /* --bug */
};

struct echo_client {
    struct labsrv_conn conn;           /* fd, name: must come first */
    unsigned char *out;                /* ECHO_OUT_MAX bytes */
    size_t out_off, out_len;           /* unsent echo is out[out_off, out_len) */
    unsigned char hold[ECHO_HOLD_MAX]; /* line start that may still be "exit" */
    size_t nhold;                      /* bytes in hold */
    bool line_start;                   /* next byte starts a line */
    bool peer_fin;                     /* recv() returned 0 */
    bool done;                         /* read no more; close once drained */
    uint64_t extra_left;               /* --send-after-fin bytes still to queue */
    uint64_t extra_off;                /* --send-after-fin bytes queued so far */
    int64_t resume_ms;                 /* --pause-ms: first time we may read */
    uint64_t echoed;                   /* bytes queued for echo so far (--bug first-1024) */
    uint64_t ticket;                   /* accept order (--bug one-at-a-time) */
    bool waiting;                      /* not its turn (--bug one-at-a-time) */
    bool logged_wait;                  /* the wait was logged */
};

/* ------------------------------------------------------------------------ */
/* usage                                                                    */
/* ------------------------------------------------------------------------ */

static void echo_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "TCP echo server for the synack lab: echoes every byte back, serving all\n"
           "clients from one poll() loop. A line \"exit\" makes the server close that\n"
           "connection (the line is not echoed). Once listening it prints\n"
           "\"listening on ADDR port PORT\" on stdout; events go to stderr.\n"
           "\n"
           "  -p, --port PORT          port to listen on (default 7788; 0 picks a free one)\n"
           "  -b, --bind ADDR          address to listen on (default: every IPv6 and IPv4\n"
           "                           address, one dual-stack socket on ::)\n"
           "      --backlog N          listen() backlog (default 128)\n"
           "  -u, --upper              echo upper-cased (ASCII letters only)\n"
           "\n"
           "Lab behaviours:\n"
           "      --close-first        close the connection as soon as the first line\n"
           "                           (up to its '\\n') has been echoed: the server is\n"
           "                           the active closer; bytes after that line are not\n"
           "                           echoed\n"
           "      --rst                close with SO_LINGER {1,0}: every close by the\n"
           "                           server sends RST instead of FIN\n"
           "      --send-after-fin N   when the client half-closes (its FIN arrives), send\n"
           "                           the remaining echo and then N more bytes of filler\n"
           "                           text before closing: data flowing after a FIN\n"
           "      --rcvbuf BYTES       SO_RCVBUF of the listening socket, set before\n"
           "                           listen() and inherited by clients: small windows\n"
           "      --pause-ms MS        do not read from a new client for MS ms after\n"
           "                           accept: its window fills up and closes (zero window)\n"
           "\n"
           "Deliberate bugs, for `synack verify` to catch (one check fails for each):\n"
           "      --bug no-close       never close a connection, not even after the\n"
           "                           client's FIN: a CLOSE_WAIT leak (no-close-wait-leak)\n"
           "      --bug rst            close with RST instead of FIN (graceful-close)\n"
           "      --bug first-1024     echo only the first 1024 bytes of each connection;\n"
           "                           the rest is read and dropped (echo)\n"
           "      --bug one-at-a-time  serve one client at a time: the others wait\n"
           "                           (accepted by the kernel, not read) until it is\n"
           "                           closed (concurrent)\n"
           "      --bug no-listen      print the readiness line but never listen(): every\n"
           "                           SYN is answered by RST (listening)\n"
           "\n"
           "  -q, --quiet              no event log on stderr\n"
           "  -h, --help               show this help and exit\n"
           "\n"
           "Exit status: 0 after SIGINT/SIGTERM, 1 on a runtime failure (cannot listen),\n"
           "2 on a usage error.\n",
           lab_prog);
}

static void echo_parse(int argc, char **argv, struct echo_opts *o)
{
    enum {
        OPT_BACKLOG = 256,
        OPT_CLOSE_FIRST,
        OPT_RST,
        OPT_AFTER_FIN,
        OPT_RCVBUF,
        OPT_PAUSE,
        OPT_BUG
    };
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"backlog", required_argument, NULL, OPT_BACKLOG},
        {"upper", no_argument, NULL, 'u'},
        {"close-first", no_argument, NULL, OPT_CLOSE_FIRST},
        {"rst", no_argument, NULL, OPT_RST},
        {"send-after-fin", required_argument, NULL, OPT_AFTER_FIN},
        {"rcvbuf", required_argument, NULL, OPT_RCVBUF},
        {"pause-ms", required_argument, NULL, OPT_PAUSE},
        {"bug", required_argument, NULL, OPT_BUG},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof *o);
    o->port = 7788;
    o->backlog = 128;
    while ((c = getopt_long(argc, argv, "p:b:uqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->port = (int)lab_opt_long("--port", optarg, 0, 65535);
            break;
        case 'b':
            o->bind = optarg;
            break;
        case OPT_BACKLOG:
            o->backlog = (int)lab_opt_long("--backlog", optarg, 1, 65535);
            break;
        case 'u':
            o->upper = true;
            break;
        case OPT_CLOSE_FIRST:
            o->close_first = true;
            break;
        case OPT_RST:
            o->rst = true;
            break;
        case OPT_AFTER_FIN:
            o->send_after_fin = lab_opt_long("--send-after-fin", optarg, 0, 1L << 40);
            break;
        case OPT_RCVBUF:
            o->rcvbuf = (int)lab_opt_long("--rcvbuf", optarg, 1, 1 << 30);
            break;
        case OPT_PAUSE:
            o->pause_ms = (int)lab_opt_long("--pause-ms", optarg, 0, 3600000);
            break;
        case OPT_BUG: {
            size_t i = 1;
            for (; i < sizeof echo_bug_names / sizeof echo_bug_names[0]; i++)
                if (strcmp(optarg, echo_bug_names[i]) == 0)
                    break;
            if (i == sizeof echo_bug_names / sizeof echo_bug_names[0])
                lab_usage_error("--bug: unknown bug '%s' (no-close, rst, first-1024, "
                                "one-at-a-time, no-listen)",
                                optarg);
            o->bug = (enum echo_bug)i;
            if (o->bug == BUG_RST)
                o->rst = true;
            break;
        }
        case 'q':
            lab_log_enabled = false;
            break;
        case 'h':
            echo_usage();
            exit(LAB_EXIT_OK);
        default:
            fprintf(stderr, "Try '%s --help'.\n", lab_prog);
            exit(LAB_EXIT_USAGE);
        }
    }
    if (optind < argc)
        lab_usage_error("unexpected argument '%s'", argv[optind]);
}

/* ------------------------------------------------------------------------ */
/* one client                                                               */
/* ------------------------------------------------------------------------ */

/* Close the client now and log how: RST when SO_LINGER {1,0} is set or
 * when unread bytes are still queued (Linux then aborts, RFC 2525 2.17),
 * FIN otherwise, as the active closer or after the peer's FIN. */
static void echo_close(struct labsrv *s, struct echo_client *c)
{
    const struct echo_opts *o = s->ctx;
    int unread = 0;

    if (ioctl(c->conn.fd, FIONREAD, &unread) == -1)
        unread = 0;
    if (o->rst)
        lab_log("%s: close, RST (SO_LINGER 0)", c->conn.name);
    else if (unread > 0)
        lab_log("%s: close, RST (%d bytes unread)", c->conn.name, unread);
    else if (c->peer_fin)
        lab_log("%s: close, FIN after the peer's FIN", c->conn.name);
    else
        lab_log("%s: close, FIN (server closes first)", c->conn.name);
    labsrv_close(s, &c->conn);
}

/* The connection died (reset or error): log it and drop the client. */
static void echo_drop(struct labsrv *s, struct echo_client *c, int errnum)
{
    if (errnum == ECONNRESET || errnum == EPIPE)
        lab_log("%s: reset by peer", c->conn.name);
    else
        lab_log("%s: error: %s", c->conn.name, net_connect_strerror(errnum));
    labsrv_close(s, &c->conn);
}

/* Append echo bytes to the output buffer, upper-cased if asked. The caller
 * has checked that they fit. */
static void echo_append(const struct echo_opts *o, struct echo_client *c, const unsigned char *p,
                        size_t n)
{
    unsigned char *dst = c->out + c->out_len;

    if (o->bug == BUG_FIRST_1024) { /* the bug: the rest is dropped */
        uint64_t room = c->echoed < ECHO_BUG_FIRST ? ECHO_BUG_FIRST - c->echoed : 0;
        if (n > room)
            n = (size_t)room;
    }
    c->echoed += n;
    if (o->upper) {
        for (size_t i = 0; i < n; i++)
            dst[i] = p[i] >= 'a' && p[i] <= 'z' ? (unsigned char)(p[i] - 'a' + 'A') : p[i];
    } else {
        memcpy(dst, p, n);
    }
    c->out_len += n;
}

/* 2 if the `n` bytes at `p` are a whole "exit" line, 1 if they may still
 * become one, 0 if not. */
static int echo_exit_match(const unsigned char *p, size_t n)
{
    static const char *const lines[] = {"exit\n", "exit\r\n"};
    int match = 0;

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t len = strlen(lines[i]);
        if (n <= len && memcmp(p, lines[i], n) == 0) {
            if (n == len)
                return 2;
            match = 1;
        }
    }
    return match;
}

enum echo_take { TAKE_MORE, TAKE_EXIT, TAKE_FIRST_LINE };

/* Queue the echo of `n` received bytes. Bytes at the start of a line are
 * held back while they may still spell "exit", so that line is never
 * echoed (at most ECHO_HOLD_MAX bytes wait). Returns TAKE_EXIT when the
 * client sent "exit", TAKE_FIRST_LINE when --close-first and a line ended,
 * TAKE_MORE otherwise; bytes after the returned point are not echoed. */
static enum echo_take echo_take(const struct echo_opts *o, struct echo_client *c,
                                const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (!c->line_start && c->nhold == 0) {
            /* Inside a line: everything up to and including '\n' goes out. */
            const unsigned char *nl = memchr(p + i, '\n', n - i);
            size_t end = nl != NULL ? (size_t)(nl - p) + 1 : n;
            echo_append(o, c, p + i, end - i);
            i = end;
            c->line_start = nl != NULL;
            if (c->line_start && o->close_first)
                return TAKE_FIRST_LINE;
            continue;
        }
        c->hold[c->nhold++] = p[i++];
        int m = echo_exit_match(c->hold, c->nhold);
        if (m == 2)
            return TAKE_EXIT;
        if (m == 1)
            continue;
        echo_append(o, c, c->hold, c->nhold);
        c->line_start = c->hold[c->nhold - 1] == '\n';
        c->nhold = 0;
        if (c->line_start && o->close_first)
            return TAKE_FIRST_LINE;
    }
    return TAKE_MORE;
}

/* Move unsent bytes to the front of the output buffer. */
static void echo_compact(struct echo_client *c)
{
    if (c->out_off == 0)
        return;
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
}

/* May we read from this client now? Only with room for a useful read plus
 * the held-back bytes: this is the back-pressure on fast senders. */
static bool echo_can_read(const struct echo_client *c, int64_t now)
{
    return !c->done && !c->waiting && now >= c->resume_ms &&
           c->out_len - c->out_off < ECHO_OUT_MAX - ECHO_HOLD_MAX;
}

/* One recv() into the output buffer's free room. */
static void echo_read(struct labsrv *s, struct echo_client *c)
{
    static unsigned char buf[ECHO_OUT_MAX];
    const struct echo_opts *o = s->ctx;
    size_t room;
    ssize_t n;

    echo_compact(c);
    room = ECHO_OUT_MAX - c->out_len - ECHO_HOLD_MAX;
    n = recv(c->conn.fd, buf, room, 0);
    if (n > 0) {
        lab_log("%s: in %zd bytes", c->conn.name, n);
        switch (echo_take(o, c, buf, (size_t)n)) {
        case TAKE_EXIT:
            lab_log("%s: line \"exit\": closing", c->conn.name);
            c->done = true;
            break;
        case TAKE_FIRST_LINE:
            lab_log("%s: first line echoed (--close-first): closing", c->conn.name);
            c->done = true;
            break;
        case TAKE_MORE:
            break;
        }
    } else if (n == 0) {
        lab_log("%s: peer FIN", c->conn.name);
        c->peer_fin = true;
        c->done = true;
        echo_append(o, c, c->hold, c->nhold); /* an unfinished "ex" is data */
        c->nhold = 0;
        c->extra_left = (uint64_t)o->send_after_fin;
        if (c->extra_left > 0)
            lab_log("%s: sending %llu more bytes after the peer's FIN (--send-after-fin)",
                    c->conn.name, (unsigned long long)c->extra_left);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        echo_drop(s, c, errno);
    }
}

/* Send as much pending output as the socket takes, topping the buffer up
 * with --send-after-fin filler once the peer's FIN has come. */
static void echo_write(struct labsrv *s, struct echo_client *c)
{
    /* At most ECHO_TURN_SENDS sends per loop turn: with --send-after-fin a fast reader
     * could otherwise keep the loop on this one client (found by tools/loadtest). */
    for (int turn = 0; turn < ECHO_TURN_SENDS; turn++) {
        if (c->extra_left > 0) {
            echo_compact(c);
            size_t k = ECHO_OUT_MAX - c->out_len;
            if (k > c->extra_left)
                k = (size_t)c->extra_left;
            lab_filler(c->out + c->out_len, k, c->extra_off);
            c->out_len += k;
            c->extra_off += k;
            c->extra_left -= k;
        }
        if (c->out_len == c->out_off)
            return;
        ssize_t n = send(c->conn.fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                echo_drop(s, c, errno);
            return;
        }
        lab_log("%s: out %zd bytes", c->conn.name, n);
        c->out_off += (size_t)n;
        if (c->out_off == c->out_len)
            c->out_off = c->out_len = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* labsrv callbacks                                                         */
/* ------------------------------------------------------------------------ */

static bool echo_open(struct labsrv *s, struct labsrv_conn *conn)
{
    const struct echo_opts *o = s->ctx;
    struct echo_client *c = (struct echo_client *)conn;
    char err[NET_ERR_LEN];

    c->out = malloc(ECHO_OUT_MAX);
    if (c->out == NULL) {
        lab_log("%s: out of memory, connection dropped", conn->name);
        return false;
    }
    static uint64_t tickets;

    c->line_start = true;
    c->ticket = ++tickets;
    c->resume_ms = lab_now_ms() + o->pause_ms;
    if (o->rst && net_set_abortive_close(err, conn->fd) == NET_ERR)
        lab_log("%s: %s", conn->name, err);
    if (o->pause_ms > 0)
        lab_log("%s: not reading for %d ms (--pause-ms)", conn->name, o->pause_ms);
    return true;
}

/* --bug one-at-a-time: is another open connection older than c? */
static bool echo_must_wait(struct labsrv *s, const struct echo_client *c)
{
    for (size_t i = 0; i < s->nconns; i++) {
        const struct echo_client *o = (const struct echo_client *)s->conns[i];
        if (o != c && o->conn.fd != -1 && o->ticket < c->ticket)
            return true;
    }
    return false;
}

static short echo_events(struct labsrv *s, struct labsrv_conn *conn, int64_t now)
{
    const struct echo_opts *o = s->ctx;
    struct echo_client *c = (struct echo_client *)conn;
    short ev = 0;

    if (o->bug == BUG_ONE_AT_A_TIME) {
        c->waiting = echo_must_wait(s, c);
        if (c->waiting) {
            if (!c->logged_wait)
                lab_log("%s: waiting: one client at a time (--bug one-at-a-time)", conn->name);
            c->logged_wait = true;
            return 0;
        }
    }
    if (echo_can_read(c, now))
        ev |= POLLIN;
    else if (!c->done && now < c->resume_ms)
        conn->wake = c->resume_ms; /* --pause-ms is over then */
    if (c->out_len > c->out_off || c->extra_left > 0)
        ev |= POLLOUT;
    return ev;
}

static void echo_service(struct labsrv *s, struct labsrv_conn *conn, short revents, int64_t now)
{
    struct echo_client *c = (struct echo_client *)conn;

    if (revents & POLLERR) {
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &e, &len);
        echo_drop(s, c, e != 0 ? e : ECONNRESET);
        return;
    }
    if ((revents & (POLLIN | POLLHUP)) && echo_can_read(c, now))
        echo_read(s, c);
    if (conn->fd != -1)
        echo_write(s, c); /* eagerly: the echo usually fits at once */
    if (conn->fd != -1 && (revents & POLLHUP) && !(revents & POLLIN))
        echo_drop(s, c, ECONNRESET); /* both directions are gone */
    if (conn->fd != -1 && c->done && c->out_len == c->out_off && c->extra_left == 0) {
        const struct echo_opts *o = s->ctx;
        if (o->bug != BUG_NO_CLOSE)
            echo_close(s, c);
        else if (!c->logged_wait) { /* the bug: the socket is never closed */
            lab_log("%s: not closing (--bug no-close): CLOSE_WAIT", conn->name);
            c->logged_wait = true;
        }
    }
}

/* Stopping: read no more, let the pending echo drain, then close. */
static void echo_stop(struct labsrv *s, struct labsrv_conn *conn)
{
    struct echo_client *c = (struct echo_client *)conn;

    c->done = true;
    c->extra_left = 0;
    if (c->out_len == c->out_off)
        echo_close(s, c);
}

static void echo_release(struct labsrv *s, struct labsrv_conn *conn)
{
    (void)s;
    free(((struct echo_client *)conn)->out);
}

/* --bug no-listen: bind the port and announce it, but never listen(); wait for a
 * signal.  A SYN to a bound socket that does not listen is answered by RST. */
static int echo_no_listen(const struct echo_opts *o)
{
    char err[NET_ERR_LEN];
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    int fd = -1;
    bool v4 = o->bind != NULL && strchr(o->bind, ':') == NULL;

    memset(&a6, 0, sizeof a6);
    memset(&a4, 0, sizeof a4);
    if (v4) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET, o->bind, &a4.sin_addr) != 1)
            lab_usage_error("--bind: '%s' is not an IP address (--bug no-listen)", o->bind);
        fd = socket(AF_INET, SOCK_STREAM, 0);
    } else {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)o->port);
        if (o->bind != NULL && inet_pton(AF_INET6, o->bind, &a6.sin6_addr) != 1)
            lab_usage_error("--bind: '%s' is not an IP address (--bug no-listen)", o->bind);
        fd = socket(AF_INET6, SOCK_STREAM, 0);
        int off = 0;
        if (fd != -1)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    int one = 1;
    if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        (v4 ? bind(fd, (struct sockaddr *)&a4, sizeof a4)
            : bind(fd, (struct sockaddr *)&a6, sizeof a6)) == -1) {
        lab_error("cannot bind port %d: %s", o->port, strerror(errno));
        return LAB_EXIT_FAIL;
    }
    int sigfd = lab_signal_pipe(err);
    if (sigfd == -1 || lab_announce_listening(err, fd) == -1) {
        lab_error("%s", err);
        return LAB_EXIT_FAIL;
    }
    lab_log("not listening (--bug no-listen): every SYN is answered by RST");
    for (;;) {
        struct pollfd p = {.fd = sigfd, .events = POLLIN};
        if (poll(&p, 1, -1) == 1 && lab_signal_taken(sigfd))
            break;
    }
    lab_log("signal received: stopping");
    close(fd);
    close(sigfd);
    return LAB_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct labsrv_ops ops = {
        .conn_size = sizeof(struct echo_client),
        .open = echo_open,
        .events = echo_events,
        .service = echo_service,
        .stop = echo_stop,
        .release = echo_release,
    };
    struct echo_opts o;
    struct labsrv s;
    char err[NET_ERR_LEN];

    lab_prog = "synack-echo-server";
    echo_parse(argc, argv, &o);
    if (o.bug == BUG_NO_LISTEN)
        return echo_no_listen(&o);
    if (labsrv_init(err, &s, &ops, &o, o.bind, o.port, o.backlog, o.rcvbuf) == -1) {
        lab_error("%s", err);
        return LAB_EXIT_FAIL;
    }
    return labsrv_run(&s);
}
