/* echo_client.c -- synack-echo-client: the textbook echo client, done right
 * (byte-stream reads, every echoed byte checked), with a scripted mode
 * that puts chosen TCP behaviours on the wire: sizes, MSS, FIN, RST,
 * half-close, keep-alive, fixed source port.
 *
 * Part of the synack lab (src/lab/README.md). The last line on stdout is
 * the summary "sent N bytes, received M bytes, close MODE, local port P". */
#include "lab.h"
#include "net.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum ec_close { CLOSE_FIN, CLOSE_RST, CLOSE_HALF };

struct ec_msg {
    unsigned char *data;
    size_t len;
};

struct ec_opts {
    const char *host;
    int port;
    struct ec_msg *msgs; /* --send and --size, in command-line order */
    size_t nmsgs;
    long count;                    /* --count: the messages are sent this many times */
    enum ec_close close;           /* --close */
    int mss;                       /* --mss, 0 for the default */
    int bind_port;                 /* --bind-port, 0 lets the kernel choose */
    int ka_idle, ka_intvl, ka_cnt; /* --keepalive; ka_idle 0 when off */
    long hold_ms;                  /* --hold-ms: idle time before closing */
    int timeout_ms;                /* --timeout-ms: longest wait for the server */
    bool send_exit;                /* --send-exit */
    bool upper;                    /* --upper: expect the echo upper-cased */
    bool scripted;                 /* any scripted option given */
};

struct ec_conn {
    int fd;
    int local_port;
    int timeout_ms;    /* poll() timeout, -1 for none */
    bool upper;        /* the echo is expected upper-cased */
    bool print_echo;   /* interactive: copy the echo to stdout */
    bool shut_wr;      /* shutdown(SHUT_WR) done */
    bool peer_closed;  /* the server's FIN has arrived */
    uint64_t sent;     /* bytes sent */
    uint64_t received; /* bytes received */
};

/* ------------------------------------------------------------------------ */
/* usage                                                                    */
/* ------------------------------------------------------------------------ */

static void ec_usage(void)
{
    printf("Usage: %s [OPTION]...\n"
           "Echo client for the synack lab. Without a scripted option it is interactive:\n"
           "type a line, see the echo, \"exit\" or end of input to leave. Every echoed\n"
           "byte is checked; the last stdout line is the summary\n"
           "\"sent N bytes, received M bytes, close MODE, local port P\".\n"
           "\n"
           "  -H, --host HOST          server address or name (default 127.0.0.1)\n"
           "  -p, --port PORT          server port (default 7788)\n"
           "  -u, --upper              expect the echo upper-cased (server --upper)\n"
           "\n"
           "Script (any of these makes the run non-interactive):\n"
           "  -s, --send TEXT          send the line TEXT\\n (repeatable)\n"
           "  -n, --size N             send one message of N printable bytes ending in\n"
           "                           '\\n' (e.g. 3200: more than one MSS)\n"
           "  -c, --count K            send the messages K times (default 1)\n"
           "      --send-exit          then send \"exit\" and wait for the server to close\n"
           "      --hold-ms MS         then keep the idle connection open MS ms\n"
           "Each message is sent while its echo is read, and the next one waits until\n"
           "the echo is complete.\n"
           "\n"
           "TCP behaviour:\n"
           "      --close MODE         how to close: fin (close(), default), rst\n"
           "                           (SO_LINGER {1,0}: abort with RST), half\n"
           "                           (shutdown(SHUT_WR) right after the last byte is\n"
           "                           sent, then read until the server closes)\n"
           "      --mss N              TCP_MAXSEG before connect(): the MSS in our SYN\n"
           "      --keepalive I,V,C    SO_KEEPALIVE, first probe after I s idle, then every\n"
           "                           V s, give up after C probes (use with --hold-ms)\n"
           "      --bind-port P        fixed source port P (with SO_REUSEADDR)\n"
           "      --timeout-ms MS      longest wait for the server (default 10000; 0: none)\n"
           "  -h, --help               show this help and exit\n"
           "\n"
           "MODE in the summary is fin, rst or half as asked, or passive when the\n"
           "server's FIN had arrived before a fin close (after exit, --close-first).\n"
           "Exit status: 0 success, 1 failure (cannot connect, echo mismatch, reset,\n"
           "timeout), 2 usage error.\n",
           lab_prog);
}

/* Append a message to the script. */
static void ec_add_msg(struct ec_opts *o, unsigned char *data, size_t len)
{
    struct ec_msg *m = realloc(o->msgs, (o->nmsgs + 1) * sizeof *m);

    if (m == NULL || data == NULL) {
        lab_error("out of memory");
        exit(LAB_EXIT_FAIL);
    }
    o->msgs = m;
    o->msgs[o->nmsgs++] = (struct ec_msg){.data = data, .len = len};
}

static void ec_parse_keepalive(struct ec_opts *o, const char *arg)
{
    char extra;

    if (sscanf(arg, "%d,%d,%d%c", &o->ka_idle, &o->ka_intvl, &o->ka_cnt, &extra) != 3 ||
        o->ka_idle < 1 || o->ka_idle > 32767 || o->ka_intvl < 1 || o->ka_intvl > 32767 ||
        o->ka_cnt < 1 || o->ka_cnt > 127)
        lab_usage_error("invalid --keepalive '%s' (expected IDLE,INTVL,CNT: seconds 1-32767, "
                        "seconds 1-32767, probes 1-127)",
                        arg);
}

static void ec_parse(int argc, char **argv, struct ec_opts *o)
{
    enum {
        OPT_CLOSE = 256,
        OPT_MSS,
        OPT_KEEPALIVE,
        OPT_HOLD,
        OPT_BIND_PORT,
        OPT_EXIT,
        OPT_TIMEOUT
    };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"upper", no_argument, NULL, 'u'},
        {"send", required_argument, NULL, 's'},
        {"size", required_argument, NULL, 'n'},
        {"count", required_argument, NULL, 'c'},
        {"send-exit", no_argument, NULL, OPT_EXIT},
        {"hold-ms", required_argument, NULL, OPT_HOLD},
        {"close", required_argument, NULL, OPT_CLOSE},
        {"mss", required_argument, NULL, OPT_MSS},
        {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
        {"bind-port", required_argument, NULL, OPT_BIND_PORT},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 7788;
    o->count = 1;
    o->timeout_ms = 10000;
    while ((c = getopt_long(argc, argv, "H:p:us:n:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            o->port = (int)lab_opt_long("--port", optarg, 1, 65535);
            break;
        case 'u':
            o->upper = true;
            break;
        case 's': {
            size_t len = strlen(optarg);
            unsigned char *d = malloc(len + 1);
            if (d != NULL) {
                memcpy(d, optarg, len);
                d[len] = '\n';
            }
            ec_add_msg(o, d, len + 1);
            o->scripted = true;
            break;
        }
        case 'n': {
            size_t len = (size_t)lab_opt_long("--size", optarg, 1, 256L << 20);
            unsigned char *d = malloc(len);
            if (d != NULL) {
                lab_filler(d, len, 0);
                d[len - 1] = '\n';
            }
            ec_add_msg(o, d, len);
            o->scripted = true;
            break;
        }
        case 'c':
            o->count = lab_opt_long("--count", optarg, 1, 1000000);
            o->scripted = true;
            break;
        case OPT_EXIT:
            o->send_exit = true;
            o->scripted = true;
            break;
        case OPT_HOLD:
            o->hold_ms = lab_opt_long("--hold-ms", optarg, 0, 24L * 3600 * 1000);
            o->scripted = true;
            break;
        case OPT_CLOSE:
            if (strcmp(optarg, "fin") == 0)
                o->close = CLOSE_FIN;
            else if (strcmp(optarg, "rst") == 0)
                o->close = CLOSE_RST;
            else if (strcmp(optarg, "half") == 0)
                o->close = CLOSE_HALF;
            else
                lab_usage_error("invalid --close '%s' (expected fin, rst or half)", optarg);
            break;
        case OPT_MSS:
            o->mss = (int)lab_opt_long("--mss", optarg, 88, 65535);
            break;
        case OPT_KEEPALIVE:
            ec_parse_keepalive(o, optarg);
            break;
        case OPT_BIND_PORT:
            o->bind_port = (int)lab_opt_long("--bind-port", optarg, 1, 65535);
            break;
        case OPT_TIMEOUT:
            o->timeout_ms = (int)lab_opt_long("--timeout-ms", optarg, 0, 24L * 3600 * 1000);
            break;
        case 'h':
            ec_usage();
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
/* the conversation                                                         */
/* ------------------------------------------------------------------------ */

/* Report a failed recv()/send() on the connection. Returns -1. */
static int ec_sock_error(const struct ec_conn *cn, const char *what, int errnum)
{
    lab_error("%s failed after %llu bytes sent and %llu received: %s", what,
              (unsigned long long)cn->sent, (unsigned long long)cn->received,
              net_connect_strerror(errnum));
    return -1;
}

/* Wait for `events` on the connection. Returns poll()'s revents, or 0
 * after reporting a timeout ("waiting for WHAT"). */
static short ec_wait(const struct ec_conn *cn, short events, const char *what)
{
    struct pollfd p = {.fd = cn->fd, .events = events};
    int r;

    do
        r = poll(&p, 1, cn->timeout_ms);
    while (r == -1 && errno == EINTR);
    if (r == 0) {
        lab_error("timed out after %d ms waiting for %s", cn->timeout_ms, what);
        return 0;
    }
    return r == -1 ? POLLERR : p.revents;
}

/* A byte for a message: 'c' (0x63) when printable, 0x0a otherwise. */
static const char *ec_byte(unsigned char b, char *buf, size_t len)
{
    if (b >= 0x20 && b < 0x7f)
        snprintf(buf, len, "'%c' (0x%02x)", b, b);
    else
        snprintf(buf, len, "0x%02x", b);
    return buf;
}

/* Send `len` bytes while reading their echo, until all of it is back;
 * reading while sending is what keeps a large message from deadlocking
 * against a server whose buffers are full. With `shut_after`, half-close
 * as soon as the last byte is sent. Every echoed byte is compared with what
 * was sent (upper-cased if expected). Returns 0, or -1 after reporting. */
static int ec_exchange(struct ec_conn *cn, const unsigned char *msg, size_t len, bool shut_after)
{
    unsigned char buf[64 * 1024];
    size_t sent = 0, got = 0;

    while (got < len) {
        short rev = ec_wait(cn, (short)(POLLIN | (sent < len ? POLLOUT : 0)), "the echo");
        if (rev == 0)
            return -1;
        if ((rev & POLLOUT) && sent < len) {
            ssize_t n = send(cn->fd, msg + sent, len - sent, MSG_NOSIGNAL);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                return ec_sock_error(cn, "send", errno);
            if (n > 0) {
                sent += (size_t)n;
                cn->sent += (uint64_t)n;
                if (sent == len && shut_after) {
                    shutdown(cn->fd, SHUT_WR);
                    cn->shut_wr = true;
                }
            }
        }
        if (rev & (POLLIN | POLLHUP | POLLERR)) {
            size_t want = len - got < sizeof buf ? len - got : sizeof buf;
            ssize_t n = recv(cn->fd, buf, want, 0);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                return ec_sock_error(cn, "recv", errno);
            if (n == 0) {
                lab_error("the server closed the connection after echoing %zu of %zu bytes", got,
                          len);
                return -1;
            }
            for (ssize_t i = 0; i < n; i++) {
                unsigned char want_b = msg[got + (size_t)i];
                if (cn->upper && want_b >= 'a' && want_b <= 'z')
                    want_b = (unsigned char)(want_b - 'a' + 'A');
                if (buf[i] != want_b) {
                    char w[16], g[16];
                    lab_error("echo mismatch at byte %llu: expected %s, got %s",
                              (unsigned long long)(cn->received + (uint64_t)i),
                              ec_byte(want_b, w, sizeof w), ec_byte(buf[i], g, sizeof g));
                    return -1;
                }
            }
            if (n > 0) {
                if (cn->print_echo)
                    fwrite(buf, 1, (size_t)n, stdout);
                got += (size_t)n;
                cn->received += (uint64_t)n;
            }
        }
    }
    if (cn->print_echo)
        fflush(stdout);
    return 0;
}

/* Read until the server's FIN, counting what comes. With `data_ok` false,
 * any byte is an error ("unexpected"). Returns 0 or -1 after reporting. */
static int ec_read_to_eof(struct ec_conn *cn, bool data_ok, const char *what)
{
    unsigned char buf[64 * 1024];

    while (!cn->peer_closed) {
        if (ec_wait(cn, POLLIN, what) == 0)
            return -1;
        ssize_t n = recv(cn->fd, buf, sizeof buf, 0);
        if (n == -1 && errno != EAGAIN && errno != EINTR)
            return ec_sock_error(cn, "recv", errno);
        if (n == 0)
            cn->peer_closed = true;
        if (n > 0) {
            cn->received += (uint64_t)n;
            if (!data_ok) {
                lab_error("unexpected %zd bytes from the server while %s", n, what);
                return -1;
            }
        }
    }
    return 0;
}

/* Keep the connection open and idle for `ms` ms (keep-alive probes show
 * up meanwhile). The server closing is noted, not an error; data is. */
static int ec_hold(struct ec_conn *cn, long ms)
{
    int64_t deadline = lab_now_ms() + ms;

    while (!cn->peer_closed && lab_now_ms() < deadline) {
        struct pollfd p = {.fd = cn->fd, .events = POLLIN};
        int r = poll(&p, 1, lab_poll_timeout(deadline));
        if (r == -1 && errno != EINTR)
            return ec_sock_error(cn, "poll", errno);
        if (r <= 0)
            continue;
        unsigned char b;
        ssize_t n = recv(cn->fd, &b, 1, 0);
        if (n == -1 && errno != EAGAIN && errno != EINTR)
            return ec_sock_error(cn, "recv while idle", errno);
        if (n == 0)
            cn->peer_closed = true;
        if (n > 0) {
            lab_error("unexpected data from the server while idle");
            return -1;
        }
    }
    return 0;
}

/* Send "exit" and wait for the server to close. */
static int ec_send_exit(struct ec_conn *cn)
{
    static const char line[] = "exit\n";
    size_t off = 0;

    while (off < sizeof line - 1) {
        if (ec_wait(cn, POLLOUT, "room to send exit") == 0)
            return -1;
        ssize_t n = send(cn->fd, line + off, sizeof line - 1 - off, MSG_NOSIGNAL);
        if (n == -1 && errno != EAGAIN && errno != EINTR)
            return ec_sock_error(cn, "send", errno);
        if (n > 0) {
            off += (size_t)n;
            cn->sent += (uint64_t)n;
        }
    }
    return ec_read_to_eof(cn, false, "the server to close after exit");
}

/* Close as asked. Returns the word for the summary, or NULL on failure. */
static const char *ec_close(struct ec_conn *cn, enum ec_close mode)
{
    char err[NET_ERR_LEN];
    const char *word = "fin";

    switch (mode) {
    case CLOSE_RST:
        if (net_set_abortive_close(err, cn->fd) == NET_ERR) {
            lab_error("%s", err);
            return NULL;
        }
        word = "rst";
        break;
    case CLOSE_HALF:
        if (!cn->shut_wr)
            shutdown(cn->fd, SHUT_WR);
        cn->shut_wr = true;
        if (ec_read_to_eof(cn, true, "the server to close after our FIN") == -1)
            return NULL;
        word = "half";
        break;
    case CLOSE_FIN:
        if (!cn->peer_closed) {
            /* Has the server's FIN already arrived? Then we close second. */
            unsigned char b;
            if (recv(cn->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
                cn->peer_closed = true;
        }
        word = cn->peer_closed ? "passive" : "fin";
        break;
    }
    close(cn->fd);
    cn->fd = -1;
    return word;
}

/* The script: messages, optional idle time, optional exit. */
static int ec_run_script(struct ec_conn *cn, const struct ec_opts *o)
{
    for (long k = 0; k < o->count; k++) {
        for (size_t i = 0; i < o->nmsgs; i++) {
            bool last = k == o->count - 1 && i == o->nmsgs - 1;
            bool shut = last && o->close == CLOSE_HALF && !o->send_exit && o->hold_ms == 0;
            if (ec_exchange(cn, o->msgs[i].data, o->msgs[i].len, shut) == -1)
                return -1;
        }
    }
    if (o->hold_ms > 0 && ec_hold(cn, o->hold_ms) == -1)
        return -1;
    if (o->send_exit && !cn->peer_closed && ec_send_exit(cn) == -1)
        return -1;
    return 0;
}

/* Interactive: prompt, send a line, print its echo; "exit" to leave. */
static int ec_run_interactive(struct ec_conn *cn)
{
    bool tty = isatty(STDIN_FILENO);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rv = 0;

    cn->print_echo = true;
    for (;;) {
        if (tty) {
            fputs("> ", stdout);
            fflush(stdout);
        }
        len = getline(&line, &cap, stdin);
        if (len <= 0)
            break; /* end of input: close as asked */
        if (line[len - 1] != '\n') {
            /* A last line without its newline: it is sent as a line. */
            char *l = realloc(line, (size_t)len + 2);
            if (l == NULL) {
                lab_error("out of memory");
                rv = -1;
                break;
            }
            line = l;
            line[len++] = '\n';
            line[len] = '\0';
        }
        if (strcmp(line, "exit\n") == 0) {
            rv = ec_send_exit(cn);
            break;
        }
        if (ec_exchange(cn, (unsigned char *)line, (size_t)len, false) == -1) {
            rv = -1;
            break;
        }
    }
    free(line);
    return rv;
}

/* Free the script. */
static void ec_free(struct ec_opts *o)
{
    for (size_t i = 0; i < o->nmsgs; i++)
        free(o->msgs[i].data);
    free(o->msgs);
    o->msgs = NULL;
    o->nmsgs = 0;
}

int main(int argc, char **argv)
{
    static struct ec_opts o; /* static: still reachable at a usage exit() */
    struct ec_conn cn;
    struct net_connect_opts copts;
    char err[NET_ERR_LEN];
    const char *how = NULL;
    int rv;

    lab_prog = "synack-echo-client";
    ec_parse(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);

    memset(&cn, 0, sizeof cn);
    copts = (struct net_connect_opts){.mss = o.mss, .bind_port = o.bind_port};
    cn.fd = net_tcp_connect(err, o.host, o.port, &copts);
    if (cn.fd == NET_ERR) {
        lab_error("%s", err);
        ec_free(&o);
        return LAB_EXIT_FAIL; /* no connection, no summary */
    }
    cn.timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : -1;
    cn.upper = o.upper;
    if (net_sock_name(err, cn.fd, false, NULL, 0, &cn.local_port) == NET_ERR ||
        (o.ka_idle > 0 &&
         net_set_keepalive(err, cn.fd, o.ka_idle, o.ka_intvl, o.ka_cnt) == NET_ERR) ||
        net_set_nonblock(err, cn.fd, true) == NET_ERR) {
        lab_error("%s", err);
        rv = -1;
    } else {
        rv = o.scripted ? ec_run_script(&cn, &o) : ec_run_interactive(&cn);
    }
    if (rv == 0)
        how = ec_close(&cn, o.close);
    if (cn.fd != -1)
        close(cn.fd);
    printf("sent %llu bytes, received %llu bytes, close %s, local port %d\n",
           (unsigned long long)cn.sent, (unsigned long long)cn.received,
           how != NULL ? how : "failed", cn.local_port);
    ec_free(&o);
    return how != NULL ? LAB_EXIT_OK : LAB_EXIT_FAIL;
}
