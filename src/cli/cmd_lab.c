/* cmd_lab.c - `synack lab [SCENARIO...]`: run the TCP lab in a private network
 * namespace and watch it live.
 *
 * Pipeline place: lab programs make traffic on lo -> live source -> decode -> tracker
 * -> sinks (packet lines as they happen, then the ladder and the connection table),
 * then each scenario's expectations are checked against what the tracker saw.
 *
 * The synack process enters a new network namespace (root, or a user namespace),
 * brings lo up at MTU 1500 with TSO/GSO/GRO off (so segments are MSS-sized) and opens
 * the capture.  Then it forks: the child drops root (to nobody) and parses packets;
 * the parent keeps root to manage the lab server and clients (each in its own process
 * group) and, once they are done, tells the child their results through a pipe.
 * Nothing is left running.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "cli.h"
#include "netns.h"
#include "synack/pipeline.h"

#define LAB_MAX_CONNS 16
#define LAB_MAX_SEGS 512
#define LAB_MAX_CLIENTS 8
#define LAB_QUIET_MS 300     /* no packet for this long after the clients exit: done */
#define LAB_TIMEOUT_MS 30000 /* a scenario never runs longer */

/* ---------------------------------------------------------------- observations */

struct seg_note {
    uint8_t conn;   /* index into lab.conns, by connection id - 1 */
    uint8_t sender; /* enum role */
    uint8_t flags;
    uint32_t len;
};

struct lab {
    /* options */
    char bindir[PATH_MAX];
    int mtu;
    bool ipv6;
    bool host_lo;
    bool json;
    const char *write_file;
    const char *html_file;  /* --html: a report page (several scenarios: FILE-NAME.html) */
    /* per scenario */
    struct sink base;      /* the check sink: records what the expectations need */
    struct conn conns[LAB_MAX_CONNS];
    bool conn_ended[LAB_MAX_CONNS];
    struct seg_note segs[LAB_MAX_SEGS];
    unsigned n_segs;
    uint64_t max_id;
    pid_t server;
    int server_port;
    char client_out[LAB_MAX_CLIENTS][256]; /* each client's last line */
    int client_status[LAB_MAX_CLIENTS];
    unsigned n_clients;
    char tmpdir[PATH_MAX];
    unsigned failed;       /* expectations failed in this scenario */
    size_t n_scenarios;    /* how many this run: -w names one file per scenario */
    bool in_userns;        /* unprivileged: root only inside our user namespace */
    uint64_t dropped;      /* packets the kernel dropped: verdicts inconclusive */
    int html_fd;           /* this scenario's report page, opened before the fork */
    char html_path[PATH_MAX + 64];
};

static void check_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    struct lab *L = (struct lab *)((char *)s - offsetof(struct lab, base));
    if (!ti || !ti->conn || ti->conn->id > LAB_MAX_CONNS || L->n_segs >= LAB_MAX_SEGS)
        return;
    L->segs[L->n_segs++] = (struct seg_note){(uint8_t)(ti->conn->id - 1), (uint8_t)ti->sender,
                                             p->u.tcp.flags, p->u.tcp.payload_len};
    if (ti->conn->id > L->max_id)
        L->max_id = ti->conn->id;
}

static void check_event(struct sink *s, const struct tcp_event *e)
{
    (void)s;
    (void)e;
}

static void check_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    (void)why;
    struct lab *L = (struct lab *)((char *)s - offsetof(struct lab, base));
    if (c->id == 0 || c->id > LAB_MAX_CONNS)
        return;
    L->conns[c->id - 1] = *c;
    L->conn_ended[c->id - 1] = true;
}

static void check_finish(struct sink *s, const struct run_totals *t)
{
    struct lab *L = (struct lab *)((char *)s - offsetof(struct lab, base));
    L->dropped = t->src.dropped + t->src.ifdropped;
}

static void check_destroy(struct sink *s)
{
    (void)s; /* part of struct lab */
}

static const struct sink_ops check_ops = {
    .packet = check_packet,
    .event = check_event,
    .conn_end = check_conn_end,
    .finish = check_finish,
    .destroy = check_destroy,
};

/* ---------------------------------------------------------------- expectations */

static void expect(struct lab *L, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void expect(struct lab *L, bool ok, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ok)
        L->failed++;
    printf("  %s %s\n", ok ? "PASS" : (L->dropped ? "INCONCLUSIVE" : "FAIL"), msg);
}

static const struct conn *conn_n(const struct lab *L, unsigned i)
{
    return i < LAB_MAX_CONNS && L->conn_ended[i] ? &L->conns[i] : NULL;
}

static const char *state_of(const struct conn *c, enum role r)
{
    return c ? tcp_state_name((enum tcp_state)c->ep[r].state) : "(no connection)";
}

static bool is_state(const struct conn *c, enum role r, enum tcp_state s)
{
    return c && c->ep[r].state == s;
}

/* Payload sizes of data segments one side sent on one connection, in order. */
static unsigned data_sizes(const struct lab *L, unsigned conn, enum role r, uint32_t *out,
                           unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < L->n_segs && n < max; i++)
        if (L->segs[i].conn == conn && L->segs[i].sender == r && L->segs[i].len > 0)
            out[n++] = L->segs[i].len;
    return n;
}

static bool has_run(const uint32_t *v, unsigned n, const uint32_t *run, unsigned k)
{
    for (unsigned i = 0; i + k <= n; i++)
        if (memcmp(v + i, run, k * sizeof *run) == 0)
            return true;
    return false;
}

/* Payload per full segment at this MTU: MTU - IP header - TCP header - timestamps. */
static uint32_t full_segment(const struct lab *L)
{
    return (uint32_t)L->mtu - (L->ipv6 ? 40u : 20u) - 20u - 12u;
}

static void expect_handshake(struct lab *L, const struct conn *c)
{
    expect(L, c && c->handshake == HS_COMPLETE, "three-way handshake: SYN, SYN/ACK, ACK (%s)",
           c ? handshake_kind_name((enum handshake_kind)c->handshake) : "no connection");
}

static void expect_final(struct lab *L, const struct conn *c, enum tcp_state cl, enum tcp_state sv)
{
    expect(L, is_state(c, ROLE_CLIENT, cl) && is_state(c, ROLE_SERVER, sv),
           "final states: client %s, server %s (seen: client %s, server %s)", tcp_state_name(cl),
           tcp_state_name(sv), state_of(c, ROLE_CLIENT), state_of(c, ROLE_SERVER));
}

static void expect_close(struct lab *L, const struct conn *c, enum close_kind k, const char *closer)
{
    const char *got = c ? conn_active_closer(c) : NULL;
    expect(L, c && c->close == k && got && strcmp(got, closer) == 0,
           "close: %s by the %s (seen: %s by %s)", close_kind_name(k), closer,
           c ? close_kind_name((enum close_kind)c->close) : "none", got ? got : "nobody");
}

static void expect_client_ok(struct lab *L, unsigned i)
{
    expect(L, L->client_status[i] == 0, "client %u exited 0 and says: %s", i + 1,
           L->client_out[i][0] ? L->client_out[i] : "(nothing)");
}

static void check_echo(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    expect_client_ok(L, 0);
    expect_handshake(L, c);
    uint32_t sizes[64], seg = full_segment(L), run[8];
    unsigned n = data_sizes(L, 0, ROLE_CLIENT, sizes, 64), k = 0;
    for (uint32_t left = 3200; left > 0 && k < 8; k++) {
        run[k] = left > seg ? seg : left;
        left -= run[k];
    }
    char want[96] = "", *w = want;
    for (unsigned i = 0; i < k; i++)
        w += snprintf(w, (size_t)(want + sizeof want - w), "%s%u", i ? " + " : "", run[i]);
    expect(L, has_run(sizes, n, run, k), "the 3200-byte message leaves as %s bytes of payload", want);
    expect(L, c && c->ep[ROLE_CLIENT].max_payload <= seg && c->ep[ROLE_SERVER].max_payload <= seg,
           "no segment above the MSS (largest: client %u, server %u)",
           c ? c->ep[ROLE_CLIENT].max_payload : 0, c ? c->ep[ROLE_SERVER].max_payload : 0);
    expect(L, c && tcp_endpoint_bytes(&c->ep[ROLE_CLIENT]) == tcp_endpoint_bytes(&c->ep[ROLE_SERVER]),
           "every byte echoed (%llu sent, %llu back)",
           c ? (unsigned long long)tcp_endpoint_bytes(&c->ep[ROLE_CLIENT]) : 0ULL,
           c ? (unsigned long long)tcp_endpoint_bytes(&c->ep[ROLE_SERVER]) : 0ULL);
    expect_close(L, c, CLOSE_FIN, "client");
    expect_final(L, c, TCPS_TIME_WAIT, TCPS_CLOSED);
}

static void check_server_close(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    expect_client_ok(L, 0);
    expect_handshake(L, c);
    expect_close(L, c, CLOSE_FIN, "server");
    expect_final(L, c, TCPS_CLOSED, TCPS_TIME_WAIT);
}

static void check_refused(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    bool rst_ack = false;
    for (unsigned i = 0; i < L->n_segs; i++)
        if (L->segs[i].sender == ROLE_SERVER && (L->segs[i].flags & (TCP_RST | TCP_ACK)) == (TCP_RST | TCP_ACK))
            rst_ack = true;
    expect(L, L->client_status[0] != 0, "the client reports the refusal: %s",
           L->client_out[0][0] ? L->client_out[0] : "(nothing)");
    expect(L, rst_ack, "the SYN is answered by RST/ACK");
    expect(L, c && c->handshake == HS_REFUSED, "handshake: refused (seen: %s)",
           c ? handshake_kind_name((enum handshake_kind)c->handshake) : "no connection");
    expect_final(L, c, TCPS_CLOSED, TCPS_CLOSED);
}

static void check_reset(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    expect_client_ok(L, 0);
    expect_handshake(L, c);
    expect_close(L, c, CLOSE_RST_CLIENT, "client");
    expect_final(L, c, TCPS_CLOSED, TCPS_CLOSED);
}

static void check_half_close(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    expect_client_ok(L, 0);
    expect_handshake(L, c);
    expect(L, c && c->ep[ROLE_SERVER].data_after_peer_fin >= 2000,
           "data flows to the client after its FIN (%u bytes)",
           c ? c->ep[ROLE_SERVER].data_after_peer_fin : 0);
    expect_close(L, c, CLOSE_HALF, "client");
    expect_final(L, c, TCPS_TIME_WAIT, TCPS_CLOSED);
}

static void check_download(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    expect_client_ok(L, 0);
    expect_handshake(L, c);
    expect(L, c && tcp_endpoint_bytes(&c->ep[ROLE_SERVER]) > 100000,
           "the file crosses the wire (%llu bytes from the server)",
           c ? (unsigned long long)tcp_endpoint_bytes(&c->ep[ROLE_SERVER]) : 0ULL);
    expect(L, c && c->ep[ROLE_SERVER].max_payload <= full_segment(L),
           "MSS-sized segments (largest %u)", c ? c->ep[ROLE_SERVER].max_payload : 0);
    expect_close(L, c, CLOSE_FIN, "server");
    expect_final(L, c, TCPS_CLOSED, TCPS_TIME_WAIT);
}

static void check_keepalive(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    expect_client_ok(L, 0);
    expect(L, c && c->ep[ROLE_CLIENT].keepalives >= 2,
           "keep-alive probes from the idle client (%u), none counted as retransmissions (%u)",
           c ? c->ep[ROLE_CLIENT].keepalives : 0, c ? c->ep[ROLE_CLIENT].retransmits : 0);
    expect(L, c && c->ep[ROLE_CLIENT].retransmits == 0, "no retransmissions");
    expect_close(L, c, CLOSE_FIN, "client");
}

static void check_zero_window(struct lab *L)
{
    const struct conn *c = conn_n(L, 0);
    expect_client_ok(L, 0);
    expect(L, c && c->ep[ROLE_SERVER].zero_windows >= 1,
           "the server advertises a zero window while it does not read (%u times)",
           c ? c->ep[ROLE_SERVER].zero_windows : 0);
    expect_close(L, c, CLOSE_FIN, "client");
    expect_final(L, c, TCPS_TIME_WAIT, TCPS_CLOSED);
}

static void check_concurrent(struct lab *L)
{
    unsigned done = 0;
    for (unsigned i = 0; i < L->n_clients; i++) {
        const struct conn *c = conn_n(L, i);
        done += L->client_status[i] == 0 && c && c->handshake == HS_COMPLETE &&
                c->close == CLOSE_FIN && c->ep[ROLE_CLIENT].state == TCPS_TIME_WAIT;
    }
    expect(L, L->max_id == L->n_clients, "%u connections at once (seen %llu)", L->n_clients,
           (unsigned long long)L->max_id);
    expect(L, done == L->n_clients, "every client served: handshake, echo, FIN close (%u of %u)",
           done, L->n_clients);
}

/* ---------------------------------------------------------------- processes */

/* Start argv[0] (a lab program next to synack) in its own process group with stdout
 * (and stderr, if merge) on a pipe.  Returns the pid; *out_fd is the read end. */
static pid_t spawn(struct lab *L, char *const argv[], int *out_fd, bool merge)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(fds[1], STDOUT_FILENO);
        if (merge)
            dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", L->bindir, argv[0]);
        execv(path, argv);
        fprintf(stderr, "synack lab: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    *out_fd = fds[0];
    return pid;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one line from fd within ms milliseconds.  Returns its length or -1. */
static int read_line(int fd, char *buf, size_t size, int ms)
{
    size_t n = 0;
    int64_t end = now_ms() + ms;
    while (n + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(end - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return -1;
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0)
            return -1;
        if (c == '\n')
            break;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return (int)n;
}

static void stop_server(struct lab *L)
{
    if (L->server > 0) {
        kill(-L->server, SIGTERM);
        int st;
        waitpid(L->server, &st, 0);
        L->server = 0;
    }
}

/* Start a lab server with "--port 0" and the given options; wait for its readiness
 * line "listening on ADDR port PORT".  Returns 0 or -1. */
static int start_server(struct lab *L, const char *prog, const char *const *opts)
{
    char *argv[24];
    int k = 0;
    argv[k++] = (char *)prog;
    argv[k++] = "--port";
    argv[k++] = "0";
    argv[k++] = "-q";
    for (; *opts && k < 22; opts++)
        argv[k++] = (char *)*opts;
    argv[k] = NULL;
    int fd;
    L->server = spawn(L, argv, &fd, false);
    if (L->server < 0)
        return -1;
    char line[256];
    int rc = read_line(fd, line, sizeof line, 5000);
    close(fd);
    const char *p = rc > 0 ? strstr(line, " port ") : NULL;
    if (!p) {
        cli_error("lab: %s did not report that it is listening", prog);
        stop_server(L);
        return -1;
    }
    L->server_port = atoi(p + 6);
    return 0;
}

/* ---------------------------------------------------------------- scenarios */

struct client_spec {
    const char *prog;
    const char *args[16];
};

struct scenario {
    const char *name;
    const char *what;
    const char *server;            /* NULL: none */
    const char *server_opts[8];
    unsigned n_clients;
    struct client_spec client;     /* repeated n_clients times */
    void (*check)(struct lab *);
};

static const struct scenario scenarios[] = {
    {"echo", "handshake, three short lines echoed upper-cased, a 3200-byte message in MSS-sized "
             "segments, the client closes first (client TIME_WAIT)",
     "synack-echo-server", {"--upper"}, 1,
     {"synack-echo-client", {"--upper", "--send", "hello", "--send", "tcp", "--send", "lab",
                             "--size", "3200", NULL}},
     check_echo},
    {"server-close", "the server closes first after its reply (server TIME_WAIT)",
     "synack-echo-server", {"--close-first"}, 1,
     {"synack-echo-client", {"--send", "hello", "--hold-ms", "300", NULL}}, check_server_close},
    {"refused", "connect to a port where nothing listens: the SYN is answered by RST/ACK",
     NULL, {NULL}, 1, {"synack-echo-client", {"--send", "hello", NULL}}, check_refused},
    {"reset", "the client aborts with SO_LINGER {1,0}: RST instead of FIN",
     "synack-echo-server", {NULL}, 1,
     {"synack-echo-client", {"--send", "hello", "--close", "rst", NULL}}, check_reset},
    {"half-close", "the client shuts down its sending side; the server keeps sending, then closes",
     "synack-echo-server", {"--send-after-fin", "3000"}, 1,
     {"synack-echo-client", {"--send", "hello", "--close", "half", NULL}}, check_half_close},
    {"download", "the file client fetches 200000 bytes; the server closes first (textbook)",
     "synack-file-server", {"--root", "@TMP"}, 1,
     {"synack-file-client", {"lab.bin", "-o", "@TMP/received.bin", NULL}}, check_download},
    {"keepalive", "an idle connection with TCP keep-alive probes every second",
     "synack-echo-server", {NULL}, 1,
     {"synack-echo-client", {"--send", "hello", "--keepalive", "1,1,3", "--hold-ms", "3300", NULL}},
     check_keepalive},
    {"zero-window", "the server does not read for 1.5 s with a 4 KiB buffer: zero window",
     "synack-echo-server", {"--rcvbuf", "4096", "--pause-ms", "1500"}, 1,
     {"synack-echo-client", {"--size", "60000", NULL}}, check_zero_window},
    {"concurrent", "five echo clients at once", "synack-echo-server", {NULL}, 5,
     {"synack-echo-client", {"--send", "hello", "--size", "2000", NULL}}, check_concurrent},
};
#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; i < N_SCENARIOS; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

/* "@TMP" in an argument stands for the scenario's temporary directory. */
static const char *expand(struct lab *L, const char *arg, char *buf, size_t size)
{
    if (strncmp(arg, "@TMP", 4) != 0)
        return arg;
    snprintf(buf, size, "%s%s", L->tmpdir, arg + 4);
    return buf;
}

/* A port nothing listens on: bind port 0, note it, close. */
static int free_port(bool v6)
{
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 9;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    ss.ss_family = (sa_family_t)(v6 ? AF_INET6 : AF_INET);
    int port = 9;
    if (bind(fd, (struct sockaddr *)&ss, len) == 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    close(fd);
    return port;
}

static int make_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    for (size_t i = 0; i < size; i++)
        fputc("0123456789abcdefghijklmnopqrstuvwxyz\n"[i % 37], f);
    return fclose(f);
}

static volatile sig_atomic_t lab_interrupted;
static void lab_on_signal(int sig)
{
    (void)sig;
    lab_interrupted = 1;
}

/* The file a scenario writes: FILE itself for one scenario, FILE-NAME.EXT for several. */
static void scenario_file(const struct lab *L, const char *file, const char *name,
                          const char *ext, char *out, size_t size)
{
    const char *dot = strrchr(file, '.');
    const char *slash = strrchr(file, '/');
    if (dot && slash && dot < slash)
        dot = NULL;
    int stem = dot ? (int)(dot - file) : (int)strlen(file);
    if (L->n_scenarios == 1)
        snprintf(out, size, "%s", file);
    else
        snprintf(out, size, "%.*s-%s%s", stem, file, name, dot ? dot : ext);
}

/* What the managing parent tells the parsing child once every client has exited:
 * one write, smaller than PIPE_BUF, so it arrives whole. */
struct client_report {
    unsigned n_clients;
    int status[LAB_MAX_CLIENTS];
    char last_line[LAB_MAX_CLIENTS][256];
};
_Static_assert(sizeof(struct client_report) <= PIPE_BUF, "one atomic pipe write");

/* Drop root in the process that parses packets.  In a user namespace the process is
 * root only there and is the invoking user everywhere else: nothing to drop (and
 * nobody is not mapped in it). */
static int drop_to_nobody(const struct lab *L)
{
    if (L->in_userns || geteuid() != 0)
        return 0;
    struct passwd *pw = getpwnam("nobody");
    if (!pw)
        return -1;
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        return -1;
    return 0;
}

/* The parsing child: capture until the parent's report arrives and the wire is quiet,
 * print everything, check the expectations.  Returns the exit code. */
static int parse_scenario(struct lab *L, const struct scenario *sc, struct source *src,
                          int report_fd)
{
    char err[SOURCE_ERRLEN];
    if (drop_to_nobody(L) != 0) {
        cli_error("lab: cannot drop privileges to nobody: %s", strerror(errno));
        return EXIT_USAGE;
    }
    struct pipeline pl;
    struct tcp_tracker_opts to;
    tcp_tracker_default_opts(&to);
    to.max_conns = 4096;
    if (pipeline_init(&pl, src, &to, err, sizeof err) < 0) {
        cli_error("lab: %s", err);
        return EXIT_USAGE;
    }
    struct sink_opts o = {.fd = STDOUT_FILENO, .live = true,
                          .color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR")};
    L->base.ops = &check_ops;
    pipeline_add_sink(&pl, &L->base);
    if (L->json) {
        o.mode = SINK_PACKETS | SINK_EVENTS | SINK_SUMMARY | SINK_TOTALS;
        pipeline_add_sink(&pl, sink_json_new(&o));
    } else {
        pipeline_add_sink(&pl, sink_ladder_new(&o));
        o.mode = SINK_PACKETS | SINK_SUMMARY | SINK_TOTALS;
        pipeline_add_sink(&pl, sink_text_new(&o));
    }
    char title[128], html_err[256] = "";
    if (L->html_fd >= 0) {
        snprintf(title, sizeof title, "synack lab %s", sc->name);
        struct sink_opts h = {.fd = L->html_fd, .title = title, .out_name = L->html_path,
                              .errbuf = html_err, .errlen = sizeof html_err};
        pipeline_add_sink(&pl, sink_html_new(&h));
    }
    struct client_report rep;
    memset(&rep, 0, sizeof rep);
    bool reported = false;
    int rc = EXIT_OK;
    int64_t start = now_ms(), last_pkt = now_ms();
    while (!lab_interrupted) {
        uint64_t before = pl.totals.packets;
        if (pipeline_run(&pl, err, sizeof err) < 0) {
            cli_error("lab: %s", err);
            rc = EXIT_USAGE;
            break;
        }
        int64_t t = now_ms();
        if (pl.totals.packets != before)
            last_pkt = t;
        if (reported && t - last_pkt >= LAB_QUIET_MS)
            break;
        if (t - start > LAB_TIMEOUT_MS) {
            printf("  FAIL the scenario did not finish within %d s\n", LAB_TIMEOUT_MS / 1000);
            L->failed++;
            break;
        }
        struct pollfd pf[2] = {{.fd = source_fd(src), .events = POLLIN},
                               {.fd = report_fd, .events = POLLIN}};
        poll(pf, reported ? 1 : 2, 20);
        if (!reported && (pf[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(report_fd, &rep, sizeof rep);
            reported = true; /* a short read (the parent died) ends the wait too */
            if (n != (ssize_t)sizeof rep)
                memset(&rep, 0, sizeof rep);
            last_pkt = now_ms() > last_pkt ? last_pkt : now_ms();
        }
    }
    if (rc == EXIT_OK)
        pipeline_run(&pl, err, sizeof err); /* what libpcap still holds */
    pipeline_finish(&pl);
    fflush(stdout);
    if (html_err[0]) {
        cli_error("lab --html: %s", html_err);
        rc = EXIT_USAGE;
    } else if (L->html_fd >= 0) {
        printf("\nReport: %s\n", L->html_path);
    }
    if (rc != EXIT_OK)
        return rc;
    if (lab_interrupted) {
        printf("\ninterrupted\n");
        return EXIT_CHECK_FAILED;
    }
    L->n_clients = rep.n_clients > LAB_MAX_CLIENTS ? LAB_MAX_CLIENTS : rep.n_clients;
    for (unsigned i = 0; i < L->n_clients; i++) {
        L->client_status[i] = rep.status[i];
        memcpy(L->client_out[i], rep.last_line[i], sizeof L->client_out[i]);
        L->client_out[i][sizeof L->client_out[i] - 1] = '\0';
    }
    printf("\nExpectations (%s):\n", sc->name);
    sc->check(L);
    fflush(stdout);
    if (L->failed)
        return L->dropped ? EXIT_INCONCLUSIVE : EXIT_CHECK_FAILED;
    return EXIT_OK;
}

/* Start the scenario's clients; collect each one's exit status and last output line
 * (bounded in time: a client still running after LAB_TIMEOUT_MS is killed). */
static void run_clients(struct lab *L, const struct scenario *sc, struct client_report *rep)
{
    char portbuf[16], tmpargs[4][PATH_MAX];
    snprintf(portbuf, sizeof portbuf, "%d", L->server_port);
    pid_t pid[LAB_MAX_CLIENTS];
    int out[LAB_MAX_CLIENTS];
    size_t len[LAB_MAX_CLIENTS] = {0};
    char cur[LAB_MAX_CLIENTS][256];
    memset(rep, 0, sizeof *rep);
    for (unsigned i = 0; i < sc->n_clients && i < LAB_MAX_CLIENTS; i++) {
        char *argv[24];
        int k = 0;
        argv[k++] = (char *)sc->client.prog;
        argv[k++] = "--host";
        argv[k++] = L->ipv6 ? "::1" : "127.0.0.1";
        argv[k++] = "--port";
        argv[k++] = portbuf;
        for (unsigned j = 0, t = 0; sc->client.args[j] && k < 22; j++) {
            const char *a = sc->client.args[j];
            if (strncmp(a, "@TMP", 4) == 0 && t < 4)
                a = expand(L, a, tmpargs[t++], PATH_MAX);
            argv[k++] = (char *)a;
        }
        argv[k] = NULL;
        pid[rep->n_clients] = spawn(L, argv, &out[rep->n_clients], true);
        if (pid[rep->n_clients] > 0)
            rep->status[rep->n_clients++] = -1;
    }
    int64_t start = now_ms();
    unsigned running = rep->n_clients;
    while (running > 0 && !lab_interrupted && now_ms() - start < LAB_TIMEOUT_MS) {
        struct pollfd pf[LAB_MAX_CLIENTS];
        unsigned idx[LAB_MAX_CLIENTS], np = 0;
        for (unsigned i = 0; i < rep->n_clients; i++)
            if (rep->status[i] == -1) {
                pf[np] = (struct pollfd){.fd = out[i], .events = POLLIN};
                idx[np++] = i;
            }
        if (poll(pf, np, 100) <= 0)
            continue;
        for (unsigned j = 0; j < np; j++) {
            unsigned i = idx[j];
            if (!(pf[j].revents & (POLLIN | POLLHUP)))
                continue;
            char buf[512];
            ssize_t n = read(out[i], buf, sizeof buf);
            for (ssize_t b = 0; b < n; b++) { /* keep the last complete line */
                if (buf[b] == '\n') {
                    cur[i][len[i]] = '\0';
                    if (len[i])
                        memcpy(rep->last_line[i], cur[i], len[i] + 1);
                    len[i] = 0;
                } else if (len[i] + 1 < sizeof cur[i]) {
                    cur[i][len[i]++] = buf[b];
                }
            }
            if (n <= 0) {
                int st;
                waitpid(pid[i], &st, 0);
                rep->status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
                close(out[i]);
                running--;
            }
        }
    }
    for (unsigned i = 0; i < rep->n_clients; i++)
        if (rep->status[i] == -1) { /* timed out or interrupted */
            kill(-pid[i], SIGKILL);
            waitpid(pid[i], NULL, 0);
            close(out[i]);
            rep->status[i] = 124;
        }
}

/* Run one scenario.  This process keeps root to manage the namespace and the lab
 * programs; a child parses the packets as nobody.  Returns the exit code. */
static int run_scenario(struct lab *L, const struct scenario *sc, unsigned index)
{
    char err[SOURCE_ERRLEN], tmpbuf[PATH_MAX];
    memset(L->conns, 0, sizeof L->conns);
    memset(L->conn_ended, 0, sizeof L->conn_ended);
    memset(L->client_out, 0, sizeof L->client_out);
    L->n_segs = 0;
    L->max_id = 0;
    L->failed = 0;
    L->dropped = 0;
    L->n_clients = 0;
    L->server = 0;
    snprintf(L->tmpdir, sizeof L->tmpdir, "/tmp/synack-lab-XXXXXX");
    if (!mkdtemp(L->tmpdir)) {
        cli_error("lab: cannot make a temporary directory: %s", strerror(errno));
        return EXIT_USAGE;
    }
    chmod(L->tmpdir, 0755);
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/lab.bin", L->tmpdir);
    make_file(file, 200000);

    printf("%s== synack lab %s: %s\n", index ? "\n" : "", sc->name, sc->what);
    fflush(stdout);
    struct source_opts so = {.iface = "lo", .immediate = true};
    struct source *src = source_open(&so, err, sizeof err);
    if (!src || source_set_filter(src, "tcp", err, sizeof err) < 0 ||
        source_set_nonblock(src) < 0) {
        cli_error("lab: %s", err);
        if (src)
            source_close(src);
        return EXIT_USAGE;
    }
    if (L->write_file) {
        char path[PATH_MAX + 64];
        scenario_file(L, L->write_file, sc->name, ".pcap", path, sizeof path);
        if (source_dump_open(src, path, true, err, sizeof err) < 0) {
            cli_error("-w %s", err);
            source_close(src);
            return EXIT_USAGE;
        }
    }
    L->html_fd = -1;
    if (L->html_file) { /* opened here, with root, before the parser drops it */
        scenario_file(L, L->html_file, sc->name, ".html", L->html_path, sizeof L->html_path);
        L->html_fd = open(L->html_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (L->html_fd < 0) {
            cli_error("lab --html %s: %s", L->html_path, strerror(errno));
            source_close(src);
            return EXIT_USAGE;
        }
    }
    int report[2];
    if (pipe(report) != 0) {
        cli_error("lab: pipe: %s", strerror(errno));
        source_close(src);
        return EXIT_USAGE;
    }
    pid_t parser = fork();
    if (parser < 0) {
        cli_error("lab: fork: %s", strerror(errno));
        source_close(src);
        return EXIT_USAGE;
    }
    if (parser == 0) {
        close(report[1]);
        int rc = parse_scenario(L, sc, src, report[0]);
        source_close(src);
        fflush(stdout);
        _exit(rc);
    }
    close(report[0]);
    source_close(src); /* the child has it; the capture socket lives on there */
    if (L->html_fd >= 0)
        close(L->html_fd);

    int rc = EXIT_OK;
    if (sc->server) {
        const char *opts[8];
        unsigned k = 0;
        for (; k < 7 && sc->server_opts[k]; k++)
            opts[k] = expand(L, sc->server_opts[k], tmpbuf, sizeof tmpbuf);
        opts[k] = NULL;
        if (start_server(L, sc->server, opts) < 0)
            rc = EXIT_USAGE;
    } else {
        L->server_port = free_port(L->ipv6);
    }
    struct client_report rep;
    memset(&rep, 0, sizeof rep);
    if (rc == EXIT_OK)
        run_clients(L, sc, &rep);
    if (write(report[1], &rep, sizeof rep) != (ssize_t)sizeof rep && rc == EXIT_OK)
        rc = EXIT_USAGE;
    close(report[1]);
    int st = 0;
    while (waitpid(parser, &st, 0) < 0 && errno == EINTR)
        ;
    stop_server(L);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/received.bin", L->tmpdir);
    unlink(path);
    unlink(file);
    rmdir(L->tmpdir);
    if (rc != EXIT_OK) {
        kill(parser, SIGKILL);
        return rc;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_USAGE;
}

/* ---------------------------------------------------------------- command line */

static void lab_usage(FILE *f)
{
    fprintf(f,
            "usage: synack lab [options] [SCENARIO... | all]\n"
            "\n"
            "Run the TCP lab in a private network namespace (lo at MTU 1500, segmentation\n"
            "offloads off) and watch it live: packet lines with state changes, a ladder\n"
            "diagram, the connection table, and the scenario's expectations checked.\n"
            "Default scenario: echo.\n"
            "\n"
            "  --list         name and explain the scenarios\n"
            "  --mtu N        MTU of lo (default 1500)\n"
            "  --ipv6         talk over ::1 instead of 127.0.0.1\n"
            "  -w FILE        keep the capture (several scenarios: FILE-NAME.pcap)\n"
            "  --html FILE    also write an HTML report with diagrams (--report is the same;\n"
            "                 several scenarios: FILE-NAME.html)\n"
            "  -o FORMAT      text (default) or json\n"
            "  --host-lo      run on the host's lo when no namespace can be made\n"
            "                 (segmentation offload there hands the capture super-segments)\n"
            "\n"
            "Exit status: 0 every expectation met, 1 one failed, 2 usage or set-up error,\n"
            "3 inconclusive (the kernel dropped packets).\n");
}

int cmd_lab(int argc, char **argv)
{
    static struct lab lab; /* large: keep it off the stack */
    struct lab *L = &lab;
    memset(L, 0, sizeof *L);
    L->mtu = 1500;
    enum { O_LIST = 1000, O_MTU, O_IPV6, O_HOSTLO, O_HTML };
    static const struct option opts[] = {
        {"list", no_argument, NULL, O_LIST},   {"mtu", required_argument, NULL, O_MTU},
        {"ipv6", no_argument, NULL, O_IPV6},   {"host-lo", no_argument, NULL, O_HOSTLO},
        {"html", required_argument, NULL, O_HTML}, {"report", required_argument, NULL, O_HTML},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":w:o:h", opts, NULL)) != -1) {
        switch (c) {
        case O_LIST:
            for (size_t i = 0; i < N_SCENARIOS; i++)
                printf("%-13s %s\n", scenarios[i].name, scenarios[i].what);
            printf("%-13s %s\n", "all", "every scenario above, one after the other");
            return EXIT_OK;
        case O_MTU: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 576 || v > 65536) {
                cli_error("lab --mtu: '%s' is not an MTU from 576 to 65536", optarg);
                return EXIT_USAGE;
            }
            L->mtu = (int)v;
            break;
        }
        case O_IPV6: L->ipv6 = true; break;
        case O_HOSTLO: L->host_lo = true; break;
        case O_HTML: L->html_file = optarg; break;
        case 'w': L->write_file = optarg; break;
        case 'o':
            if (strcmp(optarg, "json") == 0)
                L->json = true;
            else if (strcmp(optarg, "text") != 0) {
                cli_error("lab -o: unknown output format '%s' (text, json)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h': lab_usage(stdout); return EXIT_OK;
        case ':': cli_error("lab: option %s needs an argument", argv[optind - 1]); return EXIT_USAGE;
        default: cli_error("lab: unknown option %s (synack lab --help)", argv[optind - 1]); return EXIT_USAGE;
        }
    }
    const struct scenario *run[N_SCENARIOS + 8];
    size_t n = 0;
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "all") == 0) {
            for (size_t j = 0; j < N_SCENARIOS && n < N_SCENARIOS + 8; j++)
                run[n++] = &scenarios[j];
            continue;
        }
        const struct scenario *sc = find_scenario(argv[i]);
        if (!sc) {
            cli_error("lab: unknown scenario '%s' (synack lab --list)", argv[i]);
            return EXIT_USAGE;
        }
        if (n < N_SCENARIOS + 8)
            run[n++] = sc;
    }
    if (n == 0)
        run[n++] = &scenarios[0];
    L->n_scenarios = n;
    if (cli_lab_program_dir(L->bindir, sizeof L->bindir) != 0) {
        cli_error("lab: the lab programs (synack-echo-server, ...) are not next to synack");
        return EXIT_USAGE;
    }
    char err[512];
    if (!L->host_lo) {
        if (netns_enter(&L->in_userns, err, sizeof err) < 0) {
            cli_error("lab: %s. On the host's lo, segmentation offload hands the capture "
                      "super-segments whatever the MSS, so MTU-sized framing cannot be shown "
                      "there; run 'synack lab --host-lo' to run the scenarios anyway",
                      err);
            return EXIT_USAGE;
        }
        if (netns_setup_lo(L->mtu, err, sizeof err) < 0) {
            cli_error("lab: %s", err);
            return EXIT_USAGE;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lab_on_signal; /* no SA_RESTART: poll() and reads return at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int worst = EXIT_OK;
    unsigned failed = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = run_scenario(L, run[i], (unsigned)i);
        if (rc == EXIT_USAGE)
            return rc;
        if (rc == EXIT_CHECK_FAILED || (rc == EXIT_INCONCLUSIVE && worst == EXIT_OK))
            worst = rc;
        failed += rc != EXIT_OK;
        if (lab_interrupted)
            break;
    }
    if (n > 1)
        printf("\n%zu scenarios: %zu passed, %u failed\n", n, n - failed, failed);
    return worst;
}
