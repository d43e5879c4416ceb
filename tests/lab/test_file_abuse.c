/* test_file_abuse.c -- synack-file-server against hostile clients: path
 * traversal (plain, nested and encoded), symbolic link escapes (also while
 * the tree changes under the server), names with NUL, newline and CR
 * bytes, names of 4 KiB to 1 MiB, a client flooding the server while it
 * lingers, clients that vanish mid-download, and one that stops reading
 * (--stall-timeout). After each: nothing outside the root was served, the
 * server is back to its idle descriptors and still serves everyone else.
 *
 * Part of the synack lab tests (ctest: lab_file_abuse). */
#define _GNU_SOURCE /* renameat2(), RENAME_EXCHANGE */
#include "labtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 30000
#define BIG_SIZE (16 * 1024 * 1024)
/* --stall-timeout given to the server in the stall tests. */
#define STALL_MS 1000
/* How long the server waits for a lingering client's FIN (file_server.c). */
#define LINGER_MS 10000

/* The tree, made once for the group:
 *   BASE/root/{one, big, ..., %2e%2e, "new\nline", fifo, sub/inner.txt,
 *              swap/secret (a directory), swap_alt -> ../outside,
 *              selflink -> ., sub/uproot -> .., sub/up2 -> ../..,
 *              dangling -> /nonexistent/synack, loop -> loop}
 *   BASE/outside/secret */
static char base[512], root[1024];
static unsigned char big[BIG_SIZE];

static const char REFUSED_DOTDOT[] = "ERR '..' is refused (it would leave the root)\n";
static const char REFUSED_LINK[] = "ERR symbolic links are not followed\n";
static const char NO_SUCH[] = "ERR no such file\n";

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

static int put_file(const char *dir, const char *name, const void *data, size_t len)
{
    char p[PATH_MAX];
    int fd;

    snprintf(p, sizeof p, "%s/%s", dir, name);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, data, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static int put_link(const char *target, const char *name)
{
    char p[PATH_MAX];

    snprintf(p, sizeof p, "%s/%s", root, name);
    return symlink(target, p);
}

static int group_setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char p[PATH_MAX];
    uint64_t st = 0xab05e;

    (void)state;
    if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 400)
        tmp = "/tmp";
    snprintf(base, sizeof base, "%s/synack-abuse-XXXXXX", tmp);
    if (mkdtemp(base) == NULL)
        return -1;
    snprintf(root, sizeof root, "%s/root", base);
    snprintf(p, sizeof p, "%s/outside", base);
    if (mkdir(root, 0755) || mkdir(p, 0755) || put_file(p, "secret", "secret\n", 7))
        return -1;
    for (size_t i = 0; i < BIG_SIZE; i += 8) {
        uint64_t r = labtest_rand(&st);
        memcpy(big + i, &r, 8);
    }
    if (put_file(root, "one", "x", 1) || put_file(root, "big", big, BIG_SIZE) ||
        put_file(root, "...", "dots\n", 5) || put_file(root, "%2e%2e", "literal\n", 8) ||
        put_file(root, "new\nline", "newline\n", 8))
        return -1;
    snprintf(p, sizeof p, "%s/sub", root);
    if (mkdir(p, 0755) || put_file(p, "inner.txt", "inner text\n", 11))
        return -1;
    snprintf(p, sizeof p, "%s/swap", root);
    if (mkdir(p, 0755) || put_file(p, "secret", "inside-file\n", 12))
        return -1;
    snprintf(p, sizeof p, "%s/fifo", root);
    if (mkfifo(p, 0644))
        return -1;
    if (put_link("../outside", "swap_alt") || put_link(".", "selflink") ||
        put_link("..", "sub/uproot") || put_link("../..", "sub/up2") ||
        put_link("/nonexistent/synack", "dangling") || put_link("loop", "loop"))
        return -1;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_teardown(void **state)
{
    (void)state;
    if (base[0] != '\0')
        nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* The file server on 127.0.0.1, with `extra` options (may be NULL). */
static void server_start(struct labtest_server *srv, const char *extra, const char *value)
{
    const char *args[] = {"--root", root, "--bind", "127.0.0.1", "--port",
                          "0",      "-q", extra,    value,       NULL};

    labtest_server_start(srv, "synack-file-server", args);
}

/* A connection to 127.0.0.1:`port` with SO_RCVBUF `rcvbuf` set before
 * connect() (0 keeps the default). */
static int connect_rcvbuf(int port, int rcvbuf)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    if (rcvbuf > 0)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Send `req` (`len` bytes), read the answer until the server's FIN, then
 * close. Returns the byte count (at most `cap`); *err as labtest_recv_all. */
static size_t exchange(int port, const void *req, size_t len, char *buf, size_t cap, int *err)
{
    int fd = labtest_connect(port);
    labtest_send(fd, req, len);
    size_t n = labtest_recv_all(fd, buf, cap, TIMEOUT_MS, err);
    close(fd);
    return n;
}

/* The answer to `req` is exactly `want`, ended by a FIN (never an RST). */
static void expect(int port, const void *req, size_t len, const char *want)
{
    char buf[512];
    int err;
    size_t n = exchange(port, req, len, buf, sizeof buf - 1, &err);

    buf[n] = '\0';
    if (err != 0 || n != strlen(want) || memcmp(buf, want, n) != 0)
        fail_msg("request of %zu bytes starting '%.40s': got '%s' (%s), want '%s'", len,
                 (const char *)req, buf, err != 0 ? strerror(err) : "FIN", want);
}

/* Same, with `req` a C string. */
static void expect_str(int port, const char *req, const char *want)
{
    expect(port, req, strlen(req), want);
}

/* The server still serves a plain request, and has no descriptor more
 * than `idle` once every client is gone. */
static void still_serving(const struct labtest_server *srv, int idle)
{
    assert_int_equal(labtest_wait_fd_count(srv->pid, idle, TIMEOUT_MS), idle);
    expect_str(srv->port, "one\n", "OK 1\nx");
    expect_str(srv->port, "sub/inner.txt\n", "OK 11\ninner text\n");
    assert_int_equal(labtest_wait_fd_count(srv->pid, idle, TIMEOUT_MS), idle);
    assert_true(labtest_alive(srv->pid));
}

/* Read exactly the status line of a `big` response. */
static void read_big_status(int fd)
{
    char line[32];
    const char want[] = "OK 16777216\n";

    labtest_recv_exact(fd, line, sizeof want - 1, TIMEOUT_MS);
    assert_memory_equal(line, want, sizeof want - 1);
}

/* ------------------------------------------------------------------------ */
/* tests                                                                    */
/* ------------------------------------------------------------------------ */

/* '..' in any position is refused before any lookup; encoded forms are
 * just names (the protocol decodes nothing), so they name nothing, or a
 * file literally called that. */
static void test_traversal(void **state)
{
    static const struct {
        const char *req, *want;
    } cases[] = {
        {"../outside/secret\n", REFUSED_DOTDOT},
        {"a/../../outside/secret\n", REFUSED_DOTDOT},
        {"sub/../one\n", REFUSED_DOTDOT},
        {"sub/..\n", REFUSED_DOTDOT},
        {"..\n", REFUSED_DOTDOT},
        {"../\n", REFUSED_DOTDOT},
        {"./../outside/secret\n", REFUSED_DOTDOT},
        {"sub/./../../outside/secret\n", REFUSED_DOTDOT},
        {"sub//..//..//outside/secret\n", REFUSED_DOTDOT},
        {"..\r\n", REFUSED_DOTDOT},
        {"/etc/passwd\n", "ERR absolute paths are refused\n"},
        {"//etc/passwd\n", "ERR absolute paths are refused\n"},
        {"%2e%2e%2foutside%2fsecret\n", NO_SUCH},
        {"..%2foutside%2fsecret\n", NO_SUCH},
        {"..%252foutside%252fsecret\n", NO_SUCH},
        {"%c0%ae%c0%ae/outside/secret\n", NO_SUCH},
        {"\xc0\xae\xc0\xae/outside/secret\n", NO_SUCH},
        {"\xe2\x80\xa4\xe2\x80\xa4/outside/secret\n", NO_SUCH}, /* U+2024 ONE DOT LEADER */
        {"..\\outside\\secret\n", NO_SUCH},
        {". ./outside/secret\n", NO_SUCH},
        {"%2e%2e/outside/secret\n", "ERR no such file (a path component is not a directory)\n"},
        {"%2e%2e\n", "OK 8\nliteral\n"},
        {"...\n", "OK 5\ndots\n"},
    };
    struct labtest_server srv;

    (void)state;
    server_start(&srv, NULL, NULL);
    int idle = labtest_fd_count(srv.pid);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_str(srv.port, cases[i].req, cases[i].want);
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

/* No symbolic link is followed, wherever it points and wherever it sits
 * on the path; a FIFO is not a file and does not stall the server. */
static void test_symlinks(void **state)
{
    static const struct {
        const char *req, *want;
    } cases[] = {
        {"swap_alt/secret\n", REFUSED_LINK},
        {"swap_alt\n", REFUSED_LINK},
        {"selflink/one\n", REFUSED_LINK},
        {"selflink/selflink/one\n", REFUSED_LINK},
        {"sub/uproot/one\n", REFUSED_LINK},
        {"sub/up2/outside/secret\n", REFUSED_LINK},
        {"./sub/up2/outside/secret\n", REFUSED_LINK},
        {"dangling\n", REFUSED_LINK},
        {"loop\n", REFUSED_LINK},
        {"loop/x\n", REFUSED_LINK},
        {"fifo\n", "ERR not a regular file\n"},
        {"swap/secret\n", "OK 12\ninside-file\n"},
    };
    struct labtest_server srv;

    (void)state;
    server_start(&srv, NULL, NULL);
    int idle = labtest_fd_count(srv.pid);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_str(srv.port, cases[i].req, cases[i].want);
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

/* Exchange root/swap (a directory) and root/swap_alt (a link to the
 * outside) in a loop, atomically where the file system can: whatever the
 * timing, "swap/secret" is the inside file or refused, never the secret. */
static void test_symlink_race(void **state)
{
    char a[PATH_MAX], b[PATH_MAX], tmp[PATH_MAX];
    struct labtest_server srv;
    long served = 0, refused = 0;

    (void)state;
    snprintf(a, sizeof a, "%s/swap", root);
    snprintf(b, sizeof b, "%s/swap_alt", root);
    snprintf(tmp, sizeof tmp, "%s/swap_tmp", root);
    server_start(&srv, NULL, NULL);
    int idle = labtest_fd_count(srv.pid);
    pid_t swapper = fork();
    assert_true(swapper != -1);
    if (swapper == 0) {
        int64_t end = labtest_now_ms() + 20000; /* bounded even if never killed */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (labtest_now_ms() < end) {
            if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == -1) {
                /* No RENAME_EXCHANGE here: three renames, with windows. */
                if (rename(a, tmp) || rename(b, a) || rename(tmp, b))
                    _exit(1);
            }
        }
        _exit(0);
    }
    for (int i = 0; i < 400; i++) {
        const char *req = i % 2 ? "swap/secret\n" : "swap_alt/secret\n";
        char buf[256];
        int err;
        size_t n = exchange(srv.port, req, strlen(req), buf, sizeof buf - 1, &err);
        buf[n] = '\0';
        assert_int_equal(err, 0);
        if (strcmp(buf, "OK 12\ninside-file\n") == 0)
            served++;
        else if (strncmp(buf, "ERR ", 4) == 0 && strchr(buf, '\n') == buf + n - 1)
            refused++;
        else
            fail_msg("request %d '%s' answered '%s'", i, req, buf);
    }
    int status;
    kill(swapper, SIGKILL);
    assert_int_equal(waitpid(swapper, &status, 0), swapper);
    assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    /* Put the tree back as it was, whatever the last exchange left. */
    struct stat st;
    if (lstat(a, &st) == 0 && S_ISLNK(st.st_mode)) {
        if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == -1) {
            assert_int_equal(rename(a, tmp), 0);
            assert_int_equal(rename(b, a), 0);
            assert_int_equal(rename(tmp, b), 0);
        }
    }
    print_message("swap/secret: %ld served from inside the root, %ld refused\n", served, refused);
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

/* The request ends at the first '\n': what follows is never part of a
 * name. A NUL anywhere is refused (no C-string cut), only one '\r' before
 * the '\n' is dropped. */
static void test_nul_newline_cr(void **state)
{
    static const struct {
        const char *req;
        size_t len;
        const char *want;
    } cases[] = {
        {"one\0\n", 5, "ERR NUL byte in name\n"},
        {"\0\n", 2, "ERR NUL byte in name\n"},
        {"\0one\n", 5, "ERR NUL byte in name\n"},
        {"one\0../../outside/secret\n", 25, "ERR NUL byte in name\n"},
        {"sub\0/inner.txt\n", 15, "ERR NUL byte in name\n"},
        {"sub\n/inner.txt\n", 15, "ERR not a regular file\n"},
        {"one\nsub/inner.txt\n", 18, "OK 1\nx"},
        {"new\nline\n", 9, "ERR no such file\n"},
        {"one\r\r\n", 6, "ERR no such file\n"},
        {"one\rx\n", 6, "ERR no such file\n"},
        {"\r\n", 2, "ERR empty name\n"},
        {"one\r\n", 5, "OK 1\nx"},
    };
    struct labtest_server srv;

    (void)state;
    server_start(&srv, NULL, NULL);
    int idle = labtest_fd_count(srv.pid);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect(srv.port, cases[i].req, cases[i].len, cases[i].want);
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

/* Names of 4095 bytes to 1 MiB, with and without a newline: "name too
 * long", and the server reads the rest before closing (a FIN, not an RST
 * that could destroy the answer). */
static void test_long_names(void **state)
{
    static char name[(1 << 20) + 1];
    static const struct {
        size_t len; /* bytes before the newline */
        bool slashes, newline, fin;
    } cases[] = {
        {4095, false, true, false},           {4096, false, true, false},
        {65536, false, true, false},          {65536, true, true, false},
        {65536, false, false, true},          {(size_t)1 << 20, false, false, true},
        {(size_t)1 << 20, true, true, false},
    };
    struct labtest_server srv;

    (void)state;
    server_start(&srv, NULL, NULL);
    int idle = labtest_fd_count(srv.pid);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len;
        for (size_t k = 0; k < len; k++)
            name[k] = cases[i].slashes && k % 2 ? '/' : 'a';
        name[len] = '\n';
        int fd = labtest_connect(srv.port);
        labtest_send(fd, name, len + (cases[i].newline ? 1 : 0));
        if (cases[i].fin)
            assert_int_equal(shutdown(fd, SHUT_WR), 0);
        char buf[256];
        int err;
        size_t n = labtest_recv_all(fd, buf, sizeof buf - 1, TIMEOUT_MS, &err);
        buf[n] = '\0';
        close(fd);
        assert_int_equal(err, 0);
        assert_string_equal(buf, "ERR name too long\n");
    }
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

/* A client sends a too-long name and then floods the server without ever
 * sending its FIN: others are served meanwhile, and the server cuts it
 * off when its wait for the FIN is over (LINGER_MS). */
static void test_linger_flood(void **state)
{
    struct labtest_server srv;
    int p[2];

    (void)state;
    server_start(&srv, NULL, NULL);
    int idle = labtest_fd_count(srv.pid);
    assert_int_equal(pipe(p), 0);
    pid_t flooder = fork();
    assert_true(flooder != -1);
    if (flooder == 0) {
        static char junk[1 << 20];
        int64_t start = labtest_now_ms(), end = start + 3 * LINGER_MS;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[0]);
        memset(junk, 'a', sizeof junk);
        int fd = labtest_connect(srv.port);
        struct timeval tv = {.tv_sec = 1};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (write(p[1], "c", 1) != 1)
            _exit(3);
        /* Until the server gives up on us (EPIPE/ECONNRESET): exit 0. */
        while (labtest_now_ms() < end) {
            ssize_t n = send(fd, junk, sizeof junk, MSG_NOSIGNAL);
            if (n == -1 && errno != EAGAIN && errno != EINTR)
                _exit(errno == EPIPE || errno == ECONNRESET ? 0 : 2);
        }
        _exit(1); /* never cut off */
    }
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    int64_t t0 = labtest_now_ms();
    for (int i = 0; i < 20; i++)
        expect_str(srv.port, "one\n", "OK 1\nx");
    int64_t served_ms = labtest_now_ms() - t0;
    print_message("20 requests served in %lld ms during the flood\n", (long long)served_ms);
    assert_true(served_ms < 5000);
    int status;
    int64_t wait_end = labtest_now_ms() + 3 * LINGER_MS;
    pid_t w;
    while ((w = waitpid(flooder, &status, WNOHANG)) == 0 && labtest_now_ms() < wait_end)
        sleep_ms(20);
    if (w == 0) {
        kill(flooder, SIGKILL);
        waitpid(flooder, &status, 0);
        fail_msg("the flooding client was never cut off");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("flooder cut off after %lld ms\n", (long long)(labtest_now_ms() - t0));
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

/* Clients that leave in the middle of a 16 MiB body, in every way: the
 * server drops each, frees its file and socket, and serves the others. */
static void test_disconnect_mid_download(void **state)
{
    static unsigned char buf[1 << 16];
    struct labtest_server srv;
    int fds[12];

    (void)state;
    server_start(&srv, NULL, NULL);
    int idle = labtest_fd_count(srv.pid);
    for (int round = 0; round < 3; round++) {
        for (int mode = 0; mode < 4; mode++) {
            int fd = labtest_connect(srv.port);
            labtest_send(fd, "big\n", 4);
            if (mode != 0) {
                read_big_status(fd);
                labtest_recv_exact(fd, buf, sizeof buf, TIMEOUT_MS);
            }
            if (mode == 2) {
                struct linger lg = {.l_onoff = 1, .l_linger = 0};
                assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
            }
            if (mode == 3)
                assert_int_equal(shutdown(fd, SHUT_RDWR), 0);
            close(fd); /* unread bytes: the kernel sends an RST */
            expect_str(srv.port, "one\n", "OK 1\nx");
        }
    }
    /* Many at once, all left mid-body. */
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        fds[i] = labtest_connect(srv.port);
        labtest_send(fds[i], "big\n", 4);
    }
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        read_big_status(fds[i]);
        close(fds[i]);
    }
    still_serving(&srv, idle);
    /* A half-close after the request is no disconnect: the whole body. */
    int fd = labtest_connect(srv.port);
    labtest_send(fd, "big\n", 4);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    read_big_status(fd);
    for (size_t got = 0; got < BIG_SIZE; got += sizeof buf) {
        labtest_recv_exact(fd, buf, sizeof buf, TIMEOUT_MS);
        assert_memory_equal(buf, big + got, sizeof buf);
    }
    int err;
    assert_int_equal(labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err), 0);
    assert_int_equal(err, 0);
    close(fd);
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

/* --stall-timeout: a client that stops reading is aborted once no byte
 * has gone out for STALL_MS; one that reads slowly, pausing for less than
 * that each time, gets the whole file however long it takes. */
static void test_stall_timeout(void **state)
{
    static unsigned char buf[1 << 16];
    char stall[16];
    struct labtest_server srv;

    (void)state;
    snprintf(stall, sizeof stall, "%d", STALL_MS);
    server_start(&srv, "--stall-timeout", stall);
    int idle = labtest_fd_count(srv.pid);

    /* Stalled: a small window, the status line read, then nothing. */
    int fd = connect_rcvbuf(srv.port, 4096);
    labtest_send(fd, "big\n", 4);
    read_big_status(fd);
    int64_t t0 = labtest_now_ms();
    /* Still open: its socket and the file. */
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle + 2, 1000), idle + 2);
    expect_str(srv.port, "one\n", "OK 1\nx"); /* others meanwhile */
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle, 10 * STALL_MS), idle);
    int64_t cut_ms = labtest_now_ms() - t0;
    print_message("stalled client cut off after %lld ms (--stall-timeout %d)\n", (long long)cut_ms,
                  STALL_MS);
    assert_true(cut_ms >= STALL_MS - 100);
    /* What was in flight arrives, then the RST: a short read, as it must. */
    int err;
    size_t got = 0, n;
    while ((n = labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err)) == sizeof buf && err == 0)
        got += n;
    got += n;
    assert_int_equal(err, ECONNRESET);
    assert_true(got < BIG_SIZE);
    close(fd);

    /* Slow but steady: 2 MiB at a time, pausing 30% of STALL_MS between,
     * for far longer than STALL_MS in all. */
    fd = connect_rcvbuf(srv.port, 65536);
    t0 = labtest_now_ms();
    labtest_send(fd, "big\n", 4);
    read_big_status(fd);
    for (got = 0; got < BIG_SIZE; got += sizeof buf) {
        if (got % (2 << 20) == 0)
            sleep_ms(STALL_MS * 3 / 10);
        labtest_recv_exact(fd, buf, sizeof buf, TIMEOUT_MS);
        assert_memory_equal(buf, big + got, sizeof buf);
    }
    assert_int_equal(labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err), 0);
    assert_int_equal(err, 0);
    close(fd);
    int64_t slow_ms = labtest_now_ms() - t0;
    print_message("slow reader served in full in %lld ms\n", (long long)slow_ms);
    assert_true(slow_ms > STALL_MS);
    still_serving(&srv, idle);
    labtest_server_stop(&srv);
}

static void test_stall_option(void **state)
{
    const char *zero[] = {"--root", root, "--stall-timeout", "0", NULL};
    const char *help[] = {"--help", NULL};
    struct labtest_run r;

    (void)state;
    labtest_run(&r, "synack-file-server", zero, NULL, NULL, TIMEOUT_MS);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err,
                        "synack-file-server: invalid --stall-timeout '0' (expected a number from 1 "
                        "to 3600000)\nTry 'synack-file-server --help'.\n");
    labtest_run(&r, "synack-file-server", help, NULL, NULL, TIMEOUT_MS);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "--stall-timeout MS"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_traversal, labtest_teardown),
        cmocka_unit_test_teardown(test_symlinks, labtest_teardown),
        cmocka_unit_test_teardown(test_symlink_race, labtest_teardown),
        cmocka_unit_test_teardown(test_nul_newline_cr, labtest_teardown),
        cmocka_unit_test_teardown(test_long_names, labtest_teardown),
        cmocka_unit_test_teardown(test_linger_flood, labtest_teardown),
        cmocka_unit_test_teardown(test_disconnect_mid_download, labtest_teardown),
        cmocka_unit_test_teardown(test_stall_timeout, labtest_teardown),
        cmocka_unit_test_teardown(test_stall_option, labtest_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
