/* verify_run.c - the live side of `synack verify`: start the server (own process
 * group), wait until its port accepts, drive the scenarios the selected checks need,
 * let the wire settle, judge, probe a closed port, stop everything.
 *
 * Pipeline place: scenarios make traffic -> live source (non-blocking, polled here) ->
 * decode -> tracker -> verify observer; verify_checks.c judges what it saw.
 *
 * Every wait is bounded: readiness by min(5 s, --timeout), each scenario by --timeout
 * (its clients are killed after that), the settling of the wire by a few seconds.
 * Every process verify starts runs in its own process group and is killed as a group
 * (SIGTERM, then SIGKILL after 2 s) at the end, on timeout and on SIGINT/SIGTERM.
 *
 * Scenarios (connection id ranges recorded per scenario, see struct vserver):
 *   ready       connect()/close() until the port accepts (not judged, except listening)
 *   main        echo: synack-echo-client --send hello --send world --size 3200 [--upper]
 *               [--send-exit with --closer server]; file: synack-file-client FILE
 *   concurrent  --clients connections at once, made here: all connect, every one but the
 *               first sends its request at once, the first only 500 ms later; a server
 *               that serves one client at a time answers the others only after the first
 *               is done
 *   half        one connection sends its request and FIN in one segment (TCP_CORK, then
 *               shutdown(SHUT_WR)) and reads the answer
 *   probe       after judging: connect() to a closed port (the server's own after it was
 *               stopped, or one found free on its host)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "verify.h"

#define READY_MAX_MS 5000
#define FIRST_REQUEST_DELAY_MS 500
#define STOP_GRACE_MS 2000
#define MAX_GROUPS 64

volatile sig_atomic_t verify_interrupted;

/* ---------------------------------------------------------------- clocks */

int64_t verify_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- capture */

static int64_t g_last_pkt_ms; /* monotonic time the last packet was read */
static bool g_capture_failed;

/* Read everything the capture holds now. */
static void pump(struct verify *V)
{
    if (g_capture_failed)
        return;
    uint64_t before = V->pl.totals.packets;
    char err[SOURCE_ERRLEN];
    if (pipeline_run(&V->pl, err, sizeof err) < 0) {
        cli_error("verify: capture: %s", err);
        g_capture_failed = true;
    }
    if (V->pl.totals.packets != before)
        g_last_pkt_ms = mono_ms();
}

/* Wait ms milliseconds (or until interrupted), reading the capture meanwhile. */
static void idle(struct verify *V, int ms)
{
    int64_t end = mono_ms() + ms;
    for (;;) {
        pump(V);
        int64_t left = end - mono_ms();
        if (left <= 0 || verify_interrupted)
            return;
        struct pollfd p = {.fd = source_fd(V->src), .events = POLLIN};
        poll(&p, 1, left < 20 ? (int)left : 20);
    }
}

/* Wait until no packet has come for quiet_ms, at most max_ms. */
static void settle(struct verify *V, int quiet_ms, int max_ms)
{
    int64_t end = mono_ms() + max_ms;
    g_last_pkt_ms = mono_ms();
    while (!verify_interrupted && mono_ms() < end) {
        idle(V, 10);
        if (mono_ms() - g_last_pkt_ms >= quiet_ms)
            break;
    }
    pump(V);
}

/* ---------------------------------------------------------------- processes */

static pid_t g_groups[MAX_GROUPS];

static void track(pid_t pid)
{
    for (int i = 0; i < MAX_GROUPS; i++)
        if (!g_groups[i]) {
            g_groups[i] = pid;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_GROUPS; i++)
        if (g_groups[i] == pid)
            g_groups[i] = 0;
}

/* Start argv in its own process group with stdin from /dev/null and stdout and stderr
 * on out_fd.  The child keeps no other descriptor of ours (capture, files). */
static pid_t spawn(char *const argv[], int out_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGPIPE, &sa, NULL);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, STDIN_FILENO);
        if (out_fd >= 0) {
            dup2(out_fd, STDOUT_FILENO);
            dup2(out_fd, STDERR_FILENO);
        }
        long max = sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 65536)
            max = 65536;
        for (int fd = 3; fd < max; fd++)
            close(fd);
        execv(argv[0], argv);
        dprintf(STDERR_FILENO, "synack verify: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    track(pid);
    return pid;
}

/* Has pid ended?  Reaps it and fills *status. */
static bool reaped(pid_t pid, int *status)
{
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) {
        *status = st;
        return true;
    }
    return r < 0 && errno == ECHILD;
}

/* Reap what of group pgid has ended (as the child subreaper, orphaned members of the
 * group are our children too); the leader's status goes to *status. */
static void reap_group(pid_t pgid, bool *leader_done, int *status, bool block)
{
    for (;;) {
        int st;
        pid_t r = waitpid(-pgid, &st, block ? 0 : WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        if (r == pgid) {
            *status = st;
            *leader_done = true;
        }
    }
}

static bool group_alive(pid_t pgid)
{
    return kill(-pgid, 0) == 0 || errno != ESRCH;
}

/* Stop the process group pgid: SIGTERM, up to STOP_GRACE_MS for every member to end,
 * then SIGKILL; every member that is (or became, as an orphan) our child is reaped. */
static void stop_group(struct verify *V, pid_t pgid, bool *leader_done, int *status)
{
    if (pgid <= 0)
        return;
    kill(-pgid, SIGTERM);
    int64_t end = mono_ms() + STOP_GRACE_MS;
    while (mono_ms() < end) {
        reap_group(pgid, leader_done, status, false);
        if (!group_alive(pgid))
            break;
        if (V)
            idle(V, 10);
        else
            usleep(10000);
    }
    kill(-pgid, SIGKILL);
    end = mono_ms() + 1000;
    do {
        reap_group(pgid, leader_done, status, true);
        if (!group_alive(pgid))
            break;
        usleep(5000);
    } while (mono_ms() < end);
    untrack(pgid);
}

void verify_kill_all(struct verify *V)
{
    (void)V;
    for (int i = 0; i < MAX_GROUPS; i++) {
        if (!g_groups[i])
            continue;
        bool done = false;
        int st;
        kill(-g_groups[i], SIGKILL);
        int64_t end = mono_ms() + 1000;
        do {
            reap_group(g_groups[i], &done, &st, true);
            if (!group_alive(g_groups[i]))
                break;
            usleep(5000);
        } while (mono_ms() < end);
        g_groups[i] = 0;
    }
}

static void describe_status(char *out, size_t n, int st)
{
    if (WIFEXITED(st))
        snprintf(out, n, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, n, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(out, n, "ended (status 0x%x)", (unsigned)st);
}

/* The last non-empty line of what the started command printed. */
static void last_line(int fd, char *out, size_t n)
{
    out[0] = '\0';
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0)
        return;
    char buf[1024];
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t r = pread(fd, buf, (size_t)(size - from), from);
    if (r <= 0)
        return;
    buf[r] = '\0';
    while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\r'))
        buf[--r] = '\0';
    const char *from_nl = strrchr(buf, '\n');
    const char *src = from_nl ? from_nl + 1 : buf;
    size_t l = strlen(src);
    if (l >= n)
        l = n - 1;
    memcpy(out, src, l);
    out[l] = '\0';
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
}

/* ---------------------------------------------------------------- sockets */

static socklen_t sockaddr_of(const struct vserver *s, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (s->family == 6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        memcpy(&a->sin6_addr, s->addr, 16);
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    memcpy(&a->sin_addr, s->addr, 4);
    return sizeof *a;
}

/* A non-blocking connect() to s on port, started.  Returns the socket or -1. */
static int start_connect(const struct vserver *s, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len = sockaddr_of(s, port, &ss);
    int fd =
        socket(s->family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* connect() to port within ms, reading the capture meanwhile; then close.  Returns 0
 * when the connection was made, else the errno (ETIMEDOUT when no answer). */
static int connect_once(struct verify *V, const struct vserver *s, uint16_t port, int ms)
{
    int fd = start_connect(s, port);
    if (fd < 0)
        return errno;
    int64_t end = mono_ms() + ms;
    int rc = ETIMEDOUT;
    while (!verify_interrupted) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLOUT},
                              {.fd = source_fd(V->src), .events = POLLIN}};
        int64_t left = end - mono_ms();
        if (left <= 0)
            break;
        poll(p, 2, left < 50 ? (int)left : 50);
        pump(V);
        if (p[0].revents) {
            int e = 0;
            socklen_t l = sizeof e;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
            rc = e;
            break;
        }
    }
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------- ranges */

static void scen_begin(struct verify *V, struct vserver *s, enum vscen sc)
{
    pump(V);
    s->lo[sc] = V->obs.max_id;
    s->hi[sc] = V->obs.max_id;
    s->scen_ran[sc] = true;
}

static void scen_end(struct verify *V, struct vserver *s, enum vscen sc)
{
    pump(V);
    s->hi[sc] = V->obs.max_id;
}

/* ---------------------------------------------------------------- the server */

static int g_out_fd = -1; /* the started command's output (a temporary file) */

static int start_server(struct vserver *s)
{
    FILE *f = tmpfile();
    if (!f) {
        snprintf(s->ready_note, sizeof s->ready_note,
                 "cannot make a temporary file for the "
                 "server's output: %s",
                 strerror(errno));
        return -1;
    }
    g_out_fd = dup(fileno(f));
    fclose(f);
    char *argv[] = {"/bin/sh", "-c", s->command, NULL};
    s->pid = spawn(argv, g_out_fd);
    if (s->pid < 0) {
        snprintf(s->ready_note, sizeof s->ready_note, "cannot start '%s': %s", s->command,
                 strerror(errno));
        s->pid = 0;
        return -1;
    }
    s->exited = false;
    return 0;
}

/* Has the started command ended by itself?  Notes it once. */
static bool server_gone(struct vserver *s)
{
    if (!s->pid || s->exited)
        return s->exited;
    if (reaped(s->pid, &s->exit_status)) {
        s->exited = true;
        if (g_out_fd >= 0)
            last_line(g_out_fd, s->last_output, sizeof s->last_output);
        char how[96];
        describe_status(how, sizeof how, s->exit_status);
        snprintf(s->proc_note, sizeof s->proc_note,
                 "the started command %s during the run%s%.120s%s", how,
                 s->last_output[0] ? "; its last output: \"" : "", s->last_output,
                 s->last_output[0] ? "\"" : "");
    }
    return s->exited;
}

static void stop_server(struct verify *V, struct vserver *s)
{
    if (!s->pid)
        return;
    bool done = s->exited;
    int st = 0;
    stop_group(V, s->pid, &done, &st);
    if (!s->exited)
        s->exit_status = st;
    s->pid = 0;
    if (g_out_fd >= 0) {
        close(g_out_fd);
        g_out_fd = -1;
    }
}

static void wait_ready(struct verify *V, struct vserver *s)
{
    unsigned limit = V->timeout_s * 1000 < READY_MAX_MS ? V->timeout_s * 1000 : READY_MAX_MS;
    int64_t start = mono_ms(), end = start + limit;
    int last = 0;
    scen_begin(V, s, SC_READY);
    while (!verify_interrupted) {
        if (server_gone(s)) {
            char how[96];
            describe_status(how, sizeof how, s->exit_status);
            snprintf(s->ready_note, sizeof s->ready_note,
                     "the started command %s before its port accepted a connection%s%.120s%s", how,
                     s->last_output[0] ? "; its last output: \"" : "", s->last_output,
                     s->last_output[0] ? "\"" : "");
            s->proc_note[0] = '\0';
            break;
        }
        last = connect_once(V, s, s->port, 300);
        if (last == 0) {
            s->ready = true;
            snprintf(s->ready_note, sizeof s->ready_note, "accepted a connection after %.2f s",
                     (double)(mono_ms() - start) / 1000.0);
            break;
        }
        if (mono_ms() >= end) {
            snprintf(
                s->ready_note, sizeof s->ready_note,
                "nothing accepted a connection on %s within %.1f s (last attempt: %s)%s", s->name,
                limit / 1000.0, last == ECONNREFUSED ? "connection refused" : strerror(last),
                s->pid ? "; the started command is still running but does not listen there" : "");
            break;
        }
        idle(V, 50);
    }
    scen_end(V, s, SC_READY);
}

/* ---------------------------------------------------------------- main scenario */

/* Run a lab client to its end (killed after the timeout); keep its last line. */
static void run_client(struct verify *V, struct vserver *s, char *const argv[])
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    pid_t pid = spawn(argv, fds[1]);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return;
    }
    char line[256] = "", cur[256];
    size_t len = 0;
    int64_t end = mono_ms() + (int64_t)V->timeout_s * 1000 + 2000;
    bool eof = false, done = false;
    int st = 0;
    while (!verify_interrupted && mono_ms() < end) {
        if (eof && (done = reaped(pid, &st)))
            break;
        struct pollfd p[2];
        nfds_t np = 0;
        if (!eof)
            p[np++] = (struct pollfd){.fd = fds[0], .events = POLLIN};
        p[np++] = (struct pollfd){.fd = source_fd(V->src), .events = POLLIN};
        poll(p, np, 20);
        pump(V);
        if (!eof && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[512];
            ssize_t n = read(fds[0], buf, sizeof buf);
            if (n <= 0)
                eof = true;
            for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '\n') {
                    cur[len] = '\0';
                    if (len)
                        memcpy(line, cur, len + 1);
                    len = 0;
                } else if (len + 1 < sizeof cur) {
                    cur[len++] = buf[i];
                }
            }
        }
        server_gone(s);
    }
    close(fds[0]);
    if (!done) {
        stop_group(V, pid, &done, &st);
        snprintf(s->main_client, sizeof s->main_client, "killed after %u s: %.200s", V->timeout_s,
                 line);
        s->main_client_status = -1;
    } else {
        untrack(pid);
        snprintf(s->main_client, sizeof s->main_client, "%s", line);
        s->main_client_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    }
}

static void scenario_main(struct verify *V, struct vserver *s)
{
    char path[4200 + 32], port[16], tmo[24], out[4200 + 32], host[64];
    snprintf(port, sizeof port, "%u", s->port);
    snprintf(tmo, sizeof tmo, "%u", V->timeout_s * 1000);
    snprintf(host, sizeof host, "%s", s->host);
    char *argv[24];
    int k = 0;
    if (V->kind == KIND_ECHO) {
        snprintf(path, sizeof path, "%s/synack-echo-client", V->bindir);
        argv[k++] = path;
        argv[k++] = "--host";
        argv[k++] = host;
        argv[k++] = "--port";
        argv[k++] = port;
        argv[k++] = "--send";
        argv[k++] = "hello";
        argv[k++] = "--send";
        argv[k++] = "world";
        argv[k++] = "--size";
        argv[k++] = "3200";
        if (V->upper)
            argv[k++] = "--upper";
        if (V->closer == ROLE_SERVER)
            argv[k++] = "--send-exit";
    } else {
        snprintf(path, sizeof path, "%s/synack-file-client", V->bindir);
        snprintf(out, sizeof out, "%s/received", V->tmpdir);
        argv[k++] = path;
        argv[k++] = "--host";
        argv[k++] = host;
        argv[k++] = "--port";
        argv[k++] = port;
        argv[k++] = "-o";
        argv[k++] = out;
    }
    argv[k++] = "--timeout-ms";
    argv[k++] = tmo;
    if (V->kind == KIND_FILE)
        argv[k++] = (char *)V->file_name;
    argv[k] = NULL;
    scen_begin(V, s, SC_MAIN);
    run_client(V, s, argv);
    settle(V, 100, 1000);
    scen_end(V, s, SC_MAIN);
    if (V->kind == KIND_FILE) {
        unlink(out);
    }
}

/* ---------------------------------------------------------------- in-process clients */

struct icl {
    int fd;
    bool connected, failed, sent_all, done;
    int64_t due_ms; /* when to send the request */
    char req[128];
    size_t req_len, sent, got;
};

static void icl_close(struct icl *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->done = true;
}

/* Drive n clients until each is done or the deadline: connect, send req at due_ms
 * (half: with FIN in the same segment), read; echo clients close once the echo is in,
 * file clients (and half) read to the server's FIN. */
static void drive(struct verify *V, struct vserver *s, struct icl *c, unsigned n, bool half,
                  int64_t first_delay_ms)
{
    int64_t end = mono_ms() + (int64_t)V->timeout_s * 1000;
    for (unsigned i = 0; i < n; i++) {
        c[i].fd = start_connect(s, s->port);
        if (c[i].fd < 0) {
            c[i].failed = true;
            c[i].done = true;
        }
    }
    bool all_connected = false;
    struct pollfd *p = calloc(n + 1, sizeof *p);
    if (!p)
        return;
    while (!verify_interrupted && mono_ms() < end) {
        unsigned open_ = 0, conn = 0;
        for (unsigned i = 0; i < n; i++) {
            open_ += !c[i].done;
            conn += c[i].connected || c[i].failed;
        }
        if (!open_)
            break;
        if (!all_connected && conn == n) {
            all_connected = true;
            int64_t t = mono_ms();
            for (unsigned i = 0; i < n; i++)
                c[i].due_ms = t + (i == 0 ? first_delay_ms : 0);
        }
        int64_t now = mono_ms();
        for (unsigned i = 0; i < n; i++) {
            short ev = 0;
            if (!c[i].done) {
                if (!c[i].connected)
                    ev = POLLOUT;
                else {
                    ev = POLLIN;
                    if (all_connected && !c[i].sent_all && now >= c[i].due_ms)
                        ev |= POLLOUT;
                }
            }
            p[i] = (struct pollfd){.fd = c[i].done ? -1 : c[i].fd, .events = ev};
        }
        p[n] = (struct pollfd){.fd = source_fd(V->src), .events = POLLIN};
        poll(p, n + 1, 20);
        pump(V);
        server_gone(s);
        now = mono_ms();
        for (unsigned i = 0; i < n; i++) {
            struct icl *x = &c[i];
            if (x->done || !p[i].revents)
                continue;
            if (!x->connected) {
                int e = 0;
                socklen_t l = sizeof e;
                getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &e, &l);
                if (e) {
                    x->failed = true;
                    icl_close(x);
                } else {
                    x->connected = true;
                }
                continue;
            }
            if ((p[i].revents & POLLOUT) && !x->sent_all && now >= x->due_ms) {
                int one = 1;
                if (half)
                    setsockopt(x->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
                ssize_t w = send(x->fd, x->req + x->sent, x->req_len - x->sent, MSG_NOSIGNAL);
                if (w > 0)
                    x->sent += (size_t)w;
                if (x->sent == x->req_len) {
                    x->sent_all = true;
                    if (half)
                        shutdown(x->fd, SHUT_WR); /* the FIN joins the corked request */
                }
                if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    icl_close(x);
                    continue;
                }
            }
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buf[4096];
                ssize_t r = recv(x->fd, buf, sizeof buf, 0);
                if (r > 0) {
                    x->got += (size_t)r;
                    if (!half && V->kind == KIND_ECHO && x->sent_all && x->got >= x->req_len)
                        icl_close(x); /* the echo is complete: close (FIN) */
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    icl_close(x);
                }
            }
        }
    }
    free(p);
    for (unsigned i = 0; i < n; i++)
        icl_close(&c[i]);
}

static void request_text(struct verify *V, struct icl *c, const char *echo_text)
{
    if (V->kind == KIND_ECHO)
        snprintf(c->req, sizeof c->req, "%s\n", echo_text);
    else
        snprintf(c->req, sizeof c->req, "%s\n", V->file_name);
    c->req_len = strlen(c->req);
    c->fd = -1;
}

static void scenario_concurrent(struct verify *V, struct vserver *s)
{
    unsigned n = V->clients;
    struct icl *c = calloc(n, sizeof *c);
    if (!c)
        return;
    for (unsigned i = 0; i < n; i++) {
        char t[64];
        snprintf(t, sizeof t, "concurrent client %u of %u", i + 1, n);
        request_text(V, &c[i], t);
    }
    scen_begin(V, s, SC_CONCURRENT);
    drive(V, s, c, n, false, FIRST_REQUEST_DELAY_MS);
    settle(V, 100, 1000);
    scen_end(V, s, SC_CONCURRENT);
    free(c);
}

static void scenario_half(struct verify *V, struct vserver *s)
{
    struct icl c;
    memset(&c, 0, sizeof c);
    request_text(V, &c, "half-close: the answer comes after this FIN");
    scen_begin(V, s, SC_HALF);
    drive(V, s, &c, 1, true, 0);
    settle(V, 100, 1000);
    scen_end(V, s, SC_HALF);
}

/* ---------------------------------------------------------------- a session */

int verify_live_server(struct verify *V, struct vserver *s)
{
    int64_t t0 = mono_ms();
    struct source_stats st0, st1;
    pump(V);
    source_stats(V->src, &st0);
    s->live = true;
    s->ran = true;
    if (s->command && start_server(s) < 0) {
        s->ready = false;
    } else {
        wait_ready(V, s);
    }
    bool need_main = V->selected[CHK_ECHO] || V->selected[CHK_GRACEFUL_CLOSE] ||
                     V->selected[CHK_CLOSER] || V->selected[CHK_NO_CLOSE_WAIT_LEAK] ||
                     V->selected[CHK_MSS] || V->selected[CHK_HANDSHAKE];
    if (s->ready && need_main && !verify_interrupted)
        scenario_main(V, s);
    if (s->ready && V->selected[CHK_CONCURRENT] && !verify_interrupted)
        scenario_concurrent(V, s);
    if (s->ready && V->selected[CHK_HALF_CLOSE] && !verify_interrupted)
        scenario_half(V, s);
    if (s->ready && !verify_interrupted)
        settle(V, 500, 3000); /* a FIN that is coming has come; a CLOSE_WAIT leak shows */
    server_gone(s);
    pump(V);
    if (!verify_interrupted)
        verify_judge(V, s, verify_now_ns(), false);
    if (V->selected[CHK_REFUSED_WHEN_CLOSED] && !verify_interrupted) {
        if (s->command)
            stop_server(V, s);
        scen_begin(V, s, SC_PROBE);
        connect_once(V, s, s->probe_port, 1000);
        settle(V, 100, 1000);
        scen_end(V, s, SC_PROBE);
        if (!verify_interrupted)
            verify_judge(V, s, verify_now_ns(), true);
    }
    stop_server(V, s);
    pump(V);
    source_stats(V->src, &st1);
    s->dropped = (st1.dropped + st1.ifdropped) - (st0.dropped + st0.ifdropped);
    s->interrupted = verify_interrupted != 0;
    s->seconds = (double)(mono_ms() - t0) / 1000.0;
    verify_downgrade(V, s);
    return verify_interrupted ? -1 : 0;
}
