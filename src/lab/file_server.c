/* file_server.c -- synack-file-server: serves the files beneath one
 * directory with the lab file protocol (fileproto.h), every client from
 * one poll() loop, bodies streamed with sendfile().
 *
 * Part of the synack lab (src/lab/README.md). Memory per client is bounded
 * by struct fs_client (a FILEPROTO_NAME_MAX request buffer); file bodies
 * go from the page cache to the socket without passing through us. Time
 * per client is bounded in every state: the request must come within
 * FS_REQUEST_TIMEOUT_MS, a response may go without progress for at most
 * --stall-timeout ms, the wait for the client's FIN lasts at most
 * FS_LINGER_TIMEOUT_MS. */
#include "fileproto.h"
#include "lab.h"
#include "labsrv.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* A client must send its whole request line within this time. */
#define FS_REQUEST_TIMEOUT_MS 30000
/* After shutdown(SHUT_WR), how long we wait for the client's FIN. */
#define FS_LINGER_TIMEOUT_MS 10000
/* Bytes handed to one sendfile() call. */
#define FS_SENDFILE_CHUNK (1 << 20)
/* sendfile() calls, and discarding recv() calls, per client and loop turn:
 * a fast reader, or a client flooding us while we linger, must not keep
 * the loop away from the others (nor from its own deadline). */
#define FS_TURN_CALLS 4
/* Default --stall-timeout: a response that makes no progress for this long
 * (the client stopped reading) is aborted. */
#define FS_STALL_TIMEOUT_MS 30000

struct fs_opts {
    const char *root; /* --root */
    const char *bind; /* --bind, NULL for every address */
    int port;         /* --port */
    int backlog;      /* --backlog */
    bool half_close;  /* --half-close: shutdown(SHUT_WR), wait for the FIN */
    int stall_ms;     /* --stall-timeout: longest response without progress */
    int rootfd;       /* the root, opened once at start */
};

enum fs_state {
    FS_REQUEST,  /* reading the request line */
    FS_RESPONSE, /* sending the status line, then the body */
    FS_LINGER,   /* write side shut down; reading until the client's FIN */
};

struct fs_client {
    struct labsrv_conn conn; /* fd, name: must come first */
    enum fs_state state;
    char req[FILEPROTO_NAME_MAX + 2]; /* NAME, an optional '\r', '\n' */
    size_t req_len;
    char head[FILEPROTO_STATUS_MAX]; /* status line to send */
    size_t head_len, head_off;
    int file;          /* body source, -1 when none */
    off_t file_off;    /* body bytes sent */
    uint64_t file_len; /* body length announced */
    bool drain;        /* unread request bytes: linger */
    int64_t deadline;  /* of the request or the linger */
    int64_t progress;  /* FS_RESPONSE: when a send last took bytes */
};

/* ------------------------------------------------------------------------ */
/* usage                                                                    */
/* ------------------------------------------------------------------------ */

static void fs_usage(void)
{
    printf("Usage: %s --root DIR [OPTION]...\n"
           "File server for the synack lab. A client sends a file name and a newline;\n"
           "the server answers \"OK LENGTH\\n\" and the file's bytes, or \"ERR MESSAGE\\n\".\n"
           "Only regular files beneath DIR are served: absolute names, '..' and symbolic\n"
           "links are refused. Once listening it prints \"listening on ADDR port PORT\"\n"
           "on stdout; events go to stderr.\n"
           "\n"
           "  -r, --root DIR           directory to serve (required)\n"
           "  -p, --port PORT          port to listen on (default 7789; 0 picks a free one)\n"
           "  -b, --bind ADDR          address to listen on (default: every IPv6 and IPv4\n"
           "                           address, one dual-stack socket on ::)\n"
           "      --backlog N          listen() backlog (default 128)\n"
           "      --half-close         after the response, shutdown(SHUT_WR) and wait for\n"
           "                           the client's FIN before closing (default: close\n"
           "                           at once, the server closes first)\n"
           "      --stall-timeout MS   abort (RST) a response that makes no progress for\n"
           "                           MS ms, a client that stopped reading (default 30000)\n"
           "  -q, --quiet              no event log on stderr\n"
           "  -h, --help               show this help and exit\n"
           "\n"
           "Exit status: 0 after SIGINT/SIGTERM, 1 on a runtime failure (cannot listen,\n"
           "cannot open DIR), 2 on a usage error.\n",
           lab_prog);
}

static void fs_parse(int argc, char **argv, struct fs_opts *o)
{
    enum { OPT_BACKLOG = 256, OPT_HALF, OPT_STALL };
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"backlog", required_argument, NULL, OPT_BACKLOG},
        {"half-close", no_argument, NULL, OPT_HALF},
        {"stall-timeout", required_argument, NULL, OPT_STALL},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof *o);
    o->port = 7789;
    o->backlog = 128;
    o->stall_ms = FS_STALL_TIMEOUT_MS;
    o->rootfd = -1;
    while ((c = getopt_long(argc, argv, "r:p:b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->root = optarg;
            break;
        case 'p':
            o->port = (int)lab_opt_long("--port", optarg, 0, 65535);
            break;
        case 'b':
            o->bind = optarg;
            break;
        case OPT_BACKLOG:
            o->backlog = (int)lab_opt_long("--backlog", optarg, 1, 65535);
            break;
        case OPT_HALF:
            o->half_close = true;
            break;
        case OPT_STALL:
            o->stall_ms = (int)lab_opt_long("--stall-timeout", optarg, 1, 3600000);
            break;
        case 'q':
            lab_log_enabled = false;
            break;
        case 'h':
            fs_usage();
            exit(LAB_EXIT_OK);
        default:
            fprintf(stderr, "Try '%s --help'.\n", lab_prog);
            exit(LAB_EXIT_USAGE);
        }
    }
    if (optind < argc)
        lab_usage_error("unexpected argument '%s'", argv[optind]);
    if (o->root == NULL)
        lab_usage_error("missing --root DIR");
}

/* ------------------------------------------------------------------------ */
/* one client                                                               */
/* ------------------------------------------------------------------------ */

/* The requested name made safe for one log line: bytes outside printable
 * ASCII become '?', long names are cut. */
static void fs_printable(char *dst, size_t dstlen, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < len && i + 4 < dstlen; i++)
        dst[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
    if (i < len && dstlen > 4) {
        memcpy(dst + i, "...", 3);
        i += 3;
    }
    dst[i] = '\0';
}

/* Close now, logging who closes first. */
static void fs_close(struct labsrv *s, struct fs_client *c, const char *how)
{
    lab_log("%s: close, %s", c->conn.name, how);
    labsrv_close(s, &c->conn);
}

/* The connection died (reset or error): log it and drop the client. */
static void fs_drop(struct labsrv *s, struct fs_client *c, int errnum)
{
    if (errnum == ECONNRESET || errnum == EPIPE)
        lab_log("%s: reset by peer", c->conn.name);
    else
        lab_log("%s: error: %s", c->conn.name, net_connect_strerror(errnum));
    labsrv_close(s, &c->conn);
}

/* Start answering: the stall clock starts now. */
static void fs_respond(struct fs_client *c, int64_t now)
{
    c->state = FS_RESPONSE;
    c->progress = now;
}

/* Set the status line "ERR why" and start answering. */
static void fs_answer_err(struct fs_client *c, const char *why, int64_t now)
{
    lab_log("%s: ERR %s", c->conn.name, why);
    c->head_len = (size_t)snprintf(c->head, sizeof c->head, "ERR %s\n", why);
    fs_respond(c, now);
}

/* A whole request line is in; `len` bytes of name before the '\n'. */
static void fs_request(struct labsrv *s, struct fs_client *c, size_t len, int64_t now)
{
    const struct fs_opts *o = s->ctx;
    char shown[128];
    const char *why;
    uint64_t size;

    if (len > 0 && c->req[len - 1] == '\r')
        len--;
    fs_printable(shown, sizeof shown, c->req, len);
    lab_log("%s: request \"%s\"", c->conn.name, shown);
    c->file = fileproto_open(o->rootfd, c->req, len, &size, &why);
    if (c->file == -1) {
        fs_answer_err(c, why, now);
        return;
    }
    c->file_len = size;
    c->head_len = (size_t)snprintf(c->head, sizeof c->head, "OK %llu\n", (unsigned long long)size);
    lab_log("%s: OK %llu", c->conn.name, (unsigned long long)size);
    fs_respond(c, now);
}

/* FS_REQUEST: read until the '\n'. */
static void fs_read_request(struct labsrv *s, struct fs_client *c, int64_t now)
{
    ssize_t n = recv(c->conn.fd, c->req + c->req_len, sizeof c->req - c->req_len, 0);
    char *nl;

    if (n == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            fs_drop(s, c, errno);
        return;
    }
    if (n == 0) {
        lab_log("%s: peer FIN", c->conn.name);
        if (c->req_len == 0)
            fs_close(s, c, "FIN after the peer's FIN (no request)");
        else
            fs_answer_err(c, "incomplete request (no newline)", now);
        return;
    }
    c->req_len += (size_t)n;
    nl = memchr(c->req, '\n', c->req_len);
    if (nl != NULL) {
        size_t len = (size_t)(nl - c->req);
        c->drain = len + 1 < c->req_len; /* bytes after the request line */
        fs_request(s, c, len, now);
    } else if (c->req_len == sizeof c->req) {
        c->drain = true;
        fs_answer_err(c, "name too long", now);
    }
}

/* The response is out: close first, or half-close and wait for the FIN.
 * Unread request bytes would turn our FIN into an RST that can destroy the
 * response in flight, so then we linger too (as HTTP servers do). */
static void fs_finish(struct labsrv *s, struct fs_client *c, int64_t now)
{
    const struct fs_opts *o = s->ctx;

    if (!o->half_close && !c->drain) {
        fs_close(s, c, "FIN (server closes first)");
        return;
    }
    shutdown(c->conn.fd, SHUT_WR);
    lab_log("%s: shutdown(SHUT_WR), waiting for the client's FIN", c->conn.name);
    c->state = FS_LINGER;
    c->deadline = now + FS_LINGER_TIMEOUT_MS;
}

/* FS_RESPONSE: the status line, then the body through sendfile(). */
static void fs_write(struct labsrv *s, struct fs_client *c, int64_t now)
{
    while (c->head_off < c->head_len) {
        ssize_t n =
            send(c->conn.fd, c->head + c->head_off, c->head_len - c->head_off, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fs_drop(s, c, errno);
            return;
        }
        c->head_off += (size_t)n;
        c->progress = now;
    }
    for (int k = 0; c->file != -1 && (uint64_t)c->file_off < c->file_len; k++) {
        if (k == FS_TURN_CALLS)
            return; /* more at the next turn: others first */
        uint64_t left = c->file_len - (uint64_t)c->file_off;
        size_t chunk = left < FS_SENDFILE_CHUNK ? (size_t)left : FS_SENDFILE_CHUNK;
        ssize_t n = sendfile(c->conn.fd, c->file, &c->file_off, chunk);
        if (n == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fs_drop(s, c, errno);
            return;
        }
        if (n == 0) {
            /* The file shrank under us: the promised length cannot be
             * kept, and the client must see a short read. */
            lab_log("%s: file shrank at %lld bytes; aborting", c->conn.name,
                    (long long)c->file_off);
            net_set_abortive_close(NULL, c->conn.fd);
            fs_close(s, c, "RST (file shrank)");
            return;
        }
        c->progress = now;
    }
    if (c->file != -1) {
        lab_log("%s: out %llu bytes of body", c->conn.name, (unsigned long long)c->file_len);
        close(c->file);
        c->file = -1;
    }
    fs_finish(s, c, now);
}

/* FS_LINGER: discard whatever comes until the client's FIN. */
static void fs_linger(struct labsrv *s, struct fs_client *c)
{
    char buf[16384];

    for (int k = 0; k < FS_TURN_CALLS; k++) {
        ssize_t n = recv(c->conn.fd, buf, sizeof buf, 0);
        if (n == 0) {
            lab_log("%s: peer FIN", c->conn.name);
            fs_close(s, c, "after the peer's FIN");
            return;
        }
        if (n == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fs_drop(s, c, errno);
            return;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* labsrv callbacks                                                         */
/* ------------------------------------------------------------------------ */

static bool fs_open(struct labsrv *s, struct labsrv_conn *conn)
{
    struct fs_client *c = (struct fs_client *)conn;

    c->state = FS_REQUEST;
    c->file = -1;
    c->deadline = lab_now_ms() + FS_REQUEST_TIMEOUT_MS;
    (void)s;
    return true;
}

static short fs_events(struct labsrv *s, struct labsrv_conn *conn, int64_t now)
{
    const struct fs_opts *o = s->ctx;
    struct fs_client *c = (struct fs_client *)conn;

    (void)now;
    switch (c->state) {
    case FS_REQUEST:
        conn->wake = c->deadline;
        return POLLIN;
    case FS_RESPONSE:
        conn->wake = c->progress + o->stall_ms;
        return POLLOUT;
    case FS_LINGER:
        conn->wake = c->deadline;
        return POLLIN;
    }
    return 0;
}

static void fs_service(struct labsrv *s, struct labsrv_conn *conn, short revents, int64_t now)
{
    const struct fs_opts *o = s->ctx;
    struct fs_client *c = (struct fs_client *)conn;
    int unread = 0;

    if (revents & POLLERR) {
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &e, &len);
        fs_drop(s, c, e != 0 ? e : ECONNRESET);
        return;
    }
    if (c->state == FS_REQUEST && (revents & (POLLIN | POLLHUP)))
        fs_read_request(s, c, now);
    else if (c->state == FS_LINGER && (revents & (POLLIN | POLLHUP)))
        fs_linger(s, c);
    if (conn->fd != -1 && c->state == FS_RESPONSE)
        fs_write(s, c, now); /* eagerly: the status line fits at once */
    if (conn->fd != -1 && c->state == FS_RESPONSE && now - c->progress >= o->stall_ms) {
        /* The client stopped reading: give up on it. An abortive close
         * frees the unsent bytes at once; a FIN would queue behind them. */
        lab_log("%s: no progress for %d ms (the client stopped reading); aborting, %lld of "
                "%llu body bytes sent",
                conn->name, o->stall_ms, (long long)c->file_off, (unsigned long long)c->file_len);
        net_set_abortive_close(NULL, conn->fd);
        fs_close(s, c, "RST (stalled, --stall-timeout)");
        return;
    }
    if (conn->fd != -1 && c->state != FS_RESPONSE && now >= c->deadline) {
        if (c->state == FS_REQUEST)
            fs_close(s, c, "FIN (no request in time)");
        else if (ioctl(conn->fd, FIONREAD, &unread) == 0 && unread > 0)
            fs_close(s, c, "RST (the client's FIN did not come in time; bytes unread)");
        else
            fs_close(s, c, "FIN (the client's FIN did not come in time)");
    }
}

/* Stopping: a response in progress may finish within the grace period;
 * a client still to send its request, or lingering, is closed now. */
static void fs_stop(struct labsrv *s, struct labsrv_conn *conn)
{
    struct fs_client *c = (struct fs_client *)conn;

    if (c->state != FS_RESPONSE)
        fs_close(s, c, "FIN (server stopping)");
}

static void fs_release(struct labsrv *s, struct labsrv_conn *conn)
{
    struct fs_client *c = (struct fs_client *)conn;

    (void)s;
    if (c->file != -1)
        close(c->file);
}

int main(int argc, char **argv)
{
    static const struct labsrv_ops ops = {
        .conn_size = sizeof(struct fs_client),
        .open = fs_open,
        .events = fs_events,
        .service = fs_service,
        .stop = fs_stop,
        .release = fs_release,
    };
    struct fs_opts o;
    struct labsrv s;
    char err[NET_ERR_LEN];

    lab_prog = "synack-file-server";
    fs_parse(argc, argv, &o);
    /* Opened once: every name is resolved beneath this descriptor, so a
     * later rename of DIR itself cannot redirect requests. */
    o.rootfd = open(o.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o.rootfd == -1) {
        lab_error("cannot open --root %s: %s", o.root, strerror(errno));
        return LAB_EXIT_FAIL;
    }
    if (labsrv_init(err, &s, &ops, &o, o.bind, o.port, o.backlog, 0) == -1) {
        lab_error("%s", err);
        return LAB_EXIT_FAIL;
    }
    int rv = labsrv_run(&s);
    close(o.rootfd);
    return rv;
}
