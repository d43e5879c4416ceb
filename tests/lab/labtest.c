/* labtest.c -- helpers for the lab's live tests: processes, readiness
 * lines, descriptor counts, loopback sockets.
 *
 * Part of the synack lab tests; see labtest.h. */
#define _GNU_SOURCE /* pipe2(), accept4() */
#include "labtest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYNACK_LAB_BIN_DIR
#define SYNACK_LAB_BIN_DIR "."
#endif

#define LABTEST_MAX_ARGS 64
#define LABTEST_MAX_CHILDREN 64

/* Children started and not yet reaped, killed by labtest_teardown(). */
static pid_t children[LABTEST_MAX_CHILDREN];

static void labtest_track(pid_t pid, bool add)
{
    for (size_t i = 0; i < LABTEST_MAX_CHILDREN; i++) {
        if (add && children[i] == 0) {
            children[i] = pid;
            return;
        }
        if (!add && children[i] == pid) {
            children[i] = 0;
            return;
        }
    }
}

int labtest_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < LABTEST_MAX_CHILDREN; i++) {
        if (children[i] != 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
    return 0;
}

int64_t labtest_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void labtest_nap(void)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

uint64_t labtest_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

const char *labtest_bin(const char *prog)
{
    static char path[4096];
    const char *dir = getenv("SYNACK_LAB_BIN_DIR");

    if (dir == NULL || dir[0] == '\0')
        dir = SYNACK_LAB_BIN_DIR;
    snprintf(path, sizeof path, "%s/%s", dir, prog);
    return path;
}

/* Fork and exec `prog` with its stdout (and, if `err_fd` is not NULL, its
 * stderr) on pipes. */
static pid_t labtest_fork(const char *prog, const char *const *args, const char *cwd,
                          const char *stdin_text, int *out_fd, int *err_fd)
{
    const char *argv[LABTEST_MAX_ARGS + 2];
    char path[4096];
    int out[2], err[2] = {-1, -1}, in[2];
    size_t n = 0;
    pid_t pid;

    snprintf(path, sizeof path, "%s", labtest_bin(prog));
    argv[n++] = prog;
    for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
        assert_true(n < LABTEST_MAX_ARGS);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    if (err_fd != NULL)
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid != -1);
    if (pid == 0) {
        /* Never outlive the test, even when it fails half-way. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        if (err_fd != NULL)
            dup2(err[1], STDERR_FILENO);
        if (cwd != NULL && chdir(cwd) != 0)
            _exit(126);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    labtest_track(pid, true);
    close(out[1]);
    if (err_fd != NULL)
        close(err[1]);
    close(in[0]);
    if (stdin_text != NULL) {
        /* Small texts only: they fit in the pipe without blocking. */
        size_t len = strlen(stdin_text);
        assert_true(len < 4096);
        assert_int_equal(write(in[1], stdin_text, len), (ssize_t)len);
    }
    close(in[1]);
    *out_fd = out[0];
    if (err_fd != NULL)
        *err_fd = err[0];
    return pid;
}

void labtest_server_start(struct labtest_server *srv, const char *prog, const char *const *args)
{
    char line[256], again[256];
    size_t len = 0;
    int64_t deadline = labtest_now_ms() + 10000;

    memset(srv, 0, sizeof *srv);
    srv->pid = labtest_fork(prog, args, NULL, NULL, &srv->out, NULL);
    /* Read byte by byte up to the newline: nothing after it is consumed. */
    while (len == 0 || line[len - 1] != '\n') {
        struct pollfd p = {.fd = srv->out, .events = POLLIN};
        int left = (int)(deadline - labtest_now_ms());
        assert_true(left > 0); /* no readiness line within 10 s */
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t n = read(srv->out, line + len, 1);
        assert_true(n == 1); /* the server died before its readiness line */
        len++;
        assert_true(len < sizeof line - 1);
    }
    line[len] = '\0';
    assert_int_equal(sscanf(line, "listening on %63s port %d", srv->addr, &srv->port), 2);
    snprintf(again, sizeof again, "listening on %s port %d\n", srv->addr, srv->port);
    assert_string_equal(line, again);
    assert_true(srv->port > 0 && srv->port < 65536);
}

void labtest_server_stop(struct labtest_server *srv)
{
    int64_t deadline = labtest_now_ms() + 10000;
    char rest[256];
    int status = 0;
    pid_t w;

    assert_int_equal(kill(srv->pid, SIGTERM), 0);
    while ((w = waitpid(srv->pid, &status, WNOHANG)) == 0 && labtest_now_ms() < deadline)
        labtest_nap();
    if (w != 0)
        labtest_track(srv->pid, false);
    if (w == 0) {
        fail_msg("server %d did not stop within 10 s of SIGTERM", (int)srv->pid);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* Nothing but the readiness line ever goes to stdout. */
    assert_int_equal(read(srv->out, rest, sizeof rest), 0);
    close(srv->out);
    srv->pid = 0;
}

bool labtest_alive(pid_t pid)
{
    int status;

    if (waitpid(pid, &status, WNOHANG) == 0)
        return true;
    labtest_track(pid, false); /* reaped (or never ours) */
    return false;
}

int labtest_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    d = opendir(path);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int labtest_wait_fd_count(pid_t pid, int want, int timeout_ms)
{
    int64_t deadline = labtest_now_ms() + timeout_ms;
    int n;

    while ((n = labtest_fd_count(pid)) != want && labtest_now_ms() < deadline)
        labtest_nap();
    return n;
}

pid_t labtest_spawn(const char *prog, const char *const *args, const char *cwd,
                    const char *stdin_text, int *out_fd, int *err_fd)
{
    return labtest_fork(prog, args, cwd, stdin_text, out_fd, err_fd);
}

void labtest_finish(struct labtest_run *r, pid_t pid, int out_fd, int err_fd, int timeout_ms)
{
    int64_t start = labtest_now_ms(), deadline = start + timeout_ms;
    size_t olen = 0, elen = 0;
    int status = 0, open_fds = 2;
    char sink[4096];
    pid_t w;

    memset(r, 0, sizeof *r);
    struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    while (open_fds > 0 && labtest_now_ms() < deadline) {
        if (poll(p, 2, (int)(deadline - labtest_now_ms())) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd == -1 || p[i].revents == 0)
                continue;
            char *buf = i == 0 ? r->out : r->err;
            size_t *len = i == 0 ? &olen : &elen;
            size_t room = sizeof r->out - 1 - *len;
            ssize_t n =
                room > 0 ? read(p[i].fd, buf + *len, room) : read(p[i].fd, sink, sizeof sink);
            if (n <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            } else if (room > 0) {
                *len += (size_t)n;
            }
        }
    }
    r->out[olen] = '\0';
    r->err[elen] = '\0';
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && labtest_now_ms() < deadline)
        labtest_nap();
    for (int i = 0; i < 2; i++)
        if (p[i].fd != -1)
            close(p[i].fd);
    if (w != 0)
        labtest_track(pid, false);
    if (w == 0) {
        fail_msg("program did not finish within %d ms; stdout: %s; stderr: %s", timeout_ms, r->out,
                 r->err);
    }
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->ms = labtest_now_ms() - start;
}

void labtest_run(struct labtest_run *r, const char *prog, const char *const *args, const char *cwd,
                 const char *stdin_text, int timeout_ms)
{
    int out, err;
    pid_t pid = labtest_spawn(prog, args, cwd, stdin_text, &out, &err);

    labtest_finish(r, pid, out, err, timeout_ms);
}

int labtest_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

int labtest_listen(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

int labtest_accept(int lfd, int timeout_ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};

    assert_int_equal(poll(&p, 1, timeout_ms), 1);
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

void labtest_send(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR)
            continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

size_t labtest_recv_all(int fd, void *buf, size_t cap, int timeout_ms, int *err)
{
    unsigned char *p = buf;
    size_t got = 0;

    *err = 0;
    while (got < cap) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, timeout_ms) != 1)
            fail_msg("no data or EOF within %d ms (after %zu bytes)", timeout_ms, got);
        ssize_t n = recv(fd, p + got, cap - got, 0);
        if (n == 0)
            break;
        if (n == -1) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            *err = errno;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

void labtest_recv_exact(int fd, void *buf, size_t len, int timeout_ms)
{
    unsigned char *p = buf;
    size_t got = 0;

    while (got < len) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, timeout_ms) != 1)
            fail_msg("no data within %d ms (after %zu of %zu bytes)", timeout_ms, got, len);
        ssize_t n = recv(fd, p + got, len - got, 0);
        if (n == -1 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            fail_msg("connection ended after %zu of %zu bytes (%s)", got, len,
                     n == 0 ? "EOF" : strerror(errno));
        got += (size_t)n;
    }
}
