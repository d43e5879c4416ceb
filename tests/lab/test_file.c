/* test_file.c -- synack-file-server and synack-file-client: files of 0, 1
 * and 50 000 000 bytes, every refusal (missing, '..', absolute, symbolic
 * links, not a file, NUL, too long), who closes first, a stalled client
 * not blocking others, and the client's checks against a lying server.
 *
 * Part of the synack lab tests (ctest: lab_file). */
#define _XOPEN_SOURCE 700 /* nftw() */
#include "labtest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIMEOUT_MS 30000
#define BIG_SIZE 50000000

/* The tree, made once for the group:
 *   BASE/root/{empty, one, big, sub/inner.txt, inlink -> one,
 *              evil -> ../outside/secret, evil_abs -> BASE/outside/secret,
 *              linkdir -> ../outside}
 *   BASE/outside/secret
 *   BASE/out/ (the client's outputs) */
static char base[512], root[1024], outdir[1024];

static void path_of(char *dst, const char *dir, const char *name)
{
    snprintf(dst, PATH_MAX, "%s/%s", dir, name);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char p[PATH_MAX];
    int fd;

    path_of(p, dir, name);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static int group_setup(void **state)
{
    static unsigned char chunk[1 << 20];
    const char *tmp = getenv("TMPDIR");
    char p[PATH_MAX], q[PATH_MAX];
    uint64_t st = 0xf11e;

    (void)state;
    if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 400)
        tmp = "/tmp";
    snprintf(base, sizeof base, "%s/synack-labtest-XXXXXX", tmp);
    if (mkdtemp(base) == NULL)
        return -1;
    snprintf(root, sizeof root, "%s/root", base);
    snprintf(outdir, sizeof outdir, "%s/out", base);
    path_of(p, base, "outside");
    if (mkdir(root, 0755) || mkdir(outdir, 0755) || mkdir(p, 0755))
        return -1;
    write_file(p, "secret", "secret\n", 7);
    write_file(root, "empty", "", 0);
    write_file(root, "one", "x", 1);
    path_of(p, root, "sub");
    if (mkdir(p, 0755))
        return -1;
    write_file(p, "inner.txt", "inner text\n", 11);
    path_of(p, root, "big");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    for (size_t done = 0; done < BIG_SIZE;) {
        size_t len = BIG_SIZE - done < sizeof chunk ? BIG_SIZE - done : sizeof chunk;
        for (size_t i = 0; i < len; i += 8) {
            uint64_t r = labtest_rand(&st);
            memcpy(chunk + i, &r, len - i < 8 ? len - i : 8);
        }
        if (write(fd, chunk, len) != (ssize_t)len)
            return -1;
        done += len;
    }
    close(fd);
    path_of(p, root, "inlink");
    path_of(q, base, "outside/secret");
    if (symlink("one", p))
        return -1;
    path_of(p, root, "evil");
    if (symlink("../outside/secret", p))
        return -1;
    path_of(p, root, "evil_abs");
    if (symlink(q, p))
        return -1;
    path_of(p, root, "linkdir");
    if (symlink("../outside", p))
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

static void server_start(struct labtest_server *srv, bool half_close)
{
    const char *args[] = {"--root", root, "--port", "0", "-q", half_close ? "--half-close" : NULL,
                          NULL};

    labtest_server_start(srv, "synack-file-server", args);
}

/* Run the client for `name`, writing to `output` (NULL: the default
 * name, in `cwd`). */
static void fetch(struct labtest_run *r, const struct labtest_server *srv, const char *name,
                  const char *output, const char *cwd)
{
    char port[16];
    const char *with_o[] = {"--port", port, "-o", output, name, NULL};
    const char *without[] = {"--port", port, name, NULL};

    snprintf(port, sizeof port, "%d", srv->port);
    labtest_run(r, "synack-file-client", output != NULL ? with_o : without, cwd, NULL, TIMEOUT_MS);
}

/* Assert the two files hold the same bytes. */
static void same_file(const char *a, const char *b)
{
    static unsigned char ba[1 << 16], bb[1 << 16];
    int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
    ssize_t na, nb;

    assert_true(fa >= 0);
    assert_true(fb >= 0);
    do {
        na = read(fa, ba, sizeof ba);
        nb = read(fb, bb, sizeof bb);
        assert_int_equal(na, nb);
        assert_true(na >= 0);
        assert_memory_equal(ba, bb, (size_t)na);
    } while (na > 0);
    close(fa);
    close(fb);
}

static void test_fetch_files(void **state)
{
    static const struct {
        const char *name;
        unsigned long long size;
    } cases[] = {{"empty", 0},
                 {"one", 1},
                 {"sub/inner.txt", 11},
                 {"./sub//inner.txt", 11},
                 {"big", BIG_SIZE}};
    struct labtest_server srv;
    struct labtest_run r;

    (void)state;
    server_start(&srv, false);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PATH_MAX], src[PATH_MAX], want[PATH_MAX + 64];
        unsigned long long n;
        char path[PATH_MAX];
        int port;
        snprintf(out, sizeof out, "%s/fetched-%zu", outdir, i);
        fetch(&r, &srv, cases[i].name, out, NULL);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.err, "");
        assert_int_equal(
            sscanf(r.out, "received %llu bytes into %4095s local port %d", &n, path, &port), 3);
        snprintf(want, sizeof want, "received %llu bytes into %s, local port %d\n", cases[i].size,
                 out, port);
        assert_string_equal(r.out, want);
        path_of(src, root, cases[i].name);
        same_file(out, src);
    }
    labtest_server_stop(&srv);
}

static void test_default_output_name(void **state)
{
    struct labtest_server srv;
    struct labtest_run r;
    char got[PATH_MAX], src[PATH_MAX];

    (void)state;
    server_start(&srv, false);
    fetch(&r, &srv, "sub/inner.txt", NULL, outdir);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "received 11 bytes into received-inner.txt, local port "));
    path_of(got, outdir, "received-inner.txt");
    path_of(src, root, "sub/inner.txt");
    same_file(got, src);
    labtest_server_stop(&srv);
}

static void test_refusals(void **state)
{
    char abs_secret[PATH_MAX];
    const struct {
        const char *name, *why;
    } cases[] = {
        {"missing", "no such file"},
        {"sub/missing", "no such file"},
        {"one/x", "no such file (a path component is not a directory)"},
        {"../outside/secret", "'..' is refused (it would leave the root)"},
        {"sub/../one", "'..' is refused (it would leave the root)"},
        {abs_secret, "absolute paths are refused"},
        {"evil", "symbolic links are not followed"},
        {"evil_abs", "symbolic links are not followed"},
        {"linkdir/secret", "symbolic links are not followed"},
        {"inlink", "symbolic links are not followed"},
        {"sub", "not a regular file"},
        {".", "not a regular file"},
    };
    struct labtest_server srv;
    struct labtest_run r;

    (void)state;
    path_of(abs_secret, base, "outside/secret");
    server_start(&srv, false);
    int idle = labtest_fd_count(srv.pid);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PATH_MAX], want[PATH_MAX + 256];
        snprintf(out, sizeof out, "%s/refused-%zu", outdir, i);
        fetch(&r, &srv, cases[i].name, out, NULL);
        assert_int_equal(r.status, 1);
        snprintf(want, sizeof want, "synack-file-client: server refused '%s': %s\n", cases[i].name,
                 cases[i].why);
        assert_string_equal(r.err, want);
        assert_string_equal(r.out, "");
        assert_int_equal(access(out, F_OK), -1); /* no output file */
    }
    /* Every refusal released its descriptors (and the root stays open). */
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle, TIMEOUT_MS), idle);
    labtest_server_stop(&srv);
}

/* Send `req` raw and return everything until EOF; *err as recv_all. */
static size_t raw_request(int port, const void *req, size_t len, char *buf, size_t cap, int *err)
{
    int fd = labtest_connect(port);
    labtest_send(fd, req, len);
    size_t n = labtest_recv_all(fd, buf, cap, TIMEOUT_MS, err);
    close(fd);
    return n;
}

static void expect_raw(int port, const void *req, size_t len, const char *want, size_t wantlen)
{
    char buf[256];
    int err;
    size_t n = raw_request(port, req, len, buf, sizeof buf, &err);

    assert_int_equal(err, 0); /* a FIN, never an RST */
    assert_int_equal(n, wantlen);
    assert_memory_equal(buf, want, n);
}

static void test_raw_protocol(void **state)
{
    static char longname[5001];
    struct labtest_server srv;
    char buf[64];

    (void)state;
    server_start(&srv, false);
    int idle = labtest_fd_count(srv.pid);
    expect_raw(srv.port, "one\n", 4, "OK 1\nx", 6);
    expect_raw(srv.port, "one\r\n", 5, "OK 1\nx", 6);
    expect_raw(srv.port, "empty\n", 6, "OK 0\n", 5);
    expect_raw(srv.port, "a\0b\n", 4, "ERR NUL byte in name\n", 21);
    expect_raw(srv.port, "\n", 1, "ERR empty name\n", 15);
    /* Too long: the server answers, then reads the rest before closing,
     * so the answer is not destroyed by an RST. */
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\n';
    expect_raw(srv.port, longname, sizeof longname, "ERR name too long\n", 18);
    /* Bytes after the request line: answered, then lingered over too. */
    expect_raw(srv.port, "one\ntrailing junk", 17, "OK 1\nx", 6);

    /* Our FIN before the newline. */
    int fd = labtest_connect(srv.port);
    labtest_send(fd, "one", 3);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    int err;
    size_t n = labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err);
    assert_int_equal(err, 0);
    buf[n] = '\0';
    assert_string_equal(buf, "ERR incomplete request (no newline)\n");
    close(fd);
    /* Connect and leave without a word. */
    close(labtest_connect(srv.port));
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle, TIMEOUT_MS), idle);
    labtest_server_stop(&srv);
}

/* Default: the server closes first (its descriptor is gone while ours is
 * open). --half-close: it shuts down writing and keeps the connection
 * until our FIN. */
static void test_close_order(void **state)
{
    struct labtest_server srv;
    char buf[64];
    int err;

    (void)state;
    for (int half = 0; half < 2; half++) {
        server_start(&srv, half);
        int idle = labtest_fd_count(srv.pid);
        int fd = labtest_connect(srv.port);
        labtest_send(fd, "one\n", 4);
        assert_int_equal(labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err), 6);
        assert_int_equal(err, 0);
        if (half) {
            /* It waits for us: exactly one more descriptor, until we close. */
            assert_int_equal(labtest_fd_count(srv.pid), idle + 1);
            labtest_send(fd, "ignored", 7); /* still reading: no RST */
            assert_int_equal(labtest_fd_count(srv.pid), idle + 1);
        }
        if (!half)
            assert_int_equal(labtest_wait_fd_count(srv.pid, idle, TIMEOUT_MS), idle);
        close(fd);
        assert_int_equal(labtest_wait_fd_count(srv.pid, idle, TIMEOUT_MS), idle);
        labtest_server_stop(&srv);
    }
}

/* A client that stops reading a 50 MB body does not delay another. */
static void test_stalled_client(void **state)
{
    static unsigned char buf[1 << 16], want[1 << 16];
    struct labtest_server srv;
    struct labtest_run r;
    char out[PATH_MAX], src[PATH_MAX];
    size_t got = 0;

    (void)state;
    server_start(&srv, false);
    int slow = labtest_connect(srv.port);
    labtest_send(slow, "big\n", 4);
    labtest_recv_exact(slow, buf, 12, TIMEOUT_MS);
    assert_memory_equal(buf, "OK 50000000\n", 12);
    /* Meanwhile, another client is served in full. */
    snprintf(out, sizeof out, "%s/while-stalled", outdir);
    fetch(&r, &srv, "one", out, NULL);
    assert_int_equal(r.status, 0);
    /* Now the stalled client reads everything, byte-exact, then EOF. */
    path_of(src, root, "big");
    int fd = open(src, O_RDONLY);
    assert_true(fd >= 0);
    while (got < BIG_SIZE) {
        size_t len = BIG_SIZE - got < sizeof buf ? BIG_SIZE - got : sizeof buf;
        labtest_recv_exact(slow, buf, len, TIMEOUT_MS);
        assert_int_equal(read(fd, want, len), (ssize_t)len);
        assert_memory_equal(buf, want, len);
        got += len;
    }
    close(fd);
    int err;
    assert_int_equal(labtest_recv_all(slow, buf, sizeof buf, TIMEOUT_MS, &err), 0);
    assert_int_equal(err, 0);
    close(slow);
    labtest_server_stop(&srv);
}

/* A fake server in this test lies to the client in three ways. */
static void test_client_checks(void **state)
{
    static const struct {
        const char *response, *err;
    } cases[] = {
        {"OK 100\n0123456789", "short read: the connection ended after 10 of 100 bytes"},
        {"OK 5\n0123456789", "the server sent more than the announced 5 bytes"},
        {"HTTP/1.0 200 OK\r\n", "unexpected status line from the server: 'HTTP/1.0 200 OK\r'"},
        {"", "the server closed the connection without a response"},
    };
    char port[16], out[PATH_MAX], want[512], req[16];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct labtest_run r;
        int lport, so, se;
        int lfd = labtest_listen(&lport);
        snprintf(port, sizeof port, "%d", lport);
        snprintf(out, sizeof out, "%s/lied-%zu", outdir, i);
        const char *args[] = {"--port", port, "-o", out, "file", NULL};
        pid_t pid = labtest_spawn("synack-file-client", args, NULL, NULL, &so, &se);
        int fd = labtest_accept(lfd, TIMEOUT_MS);
        labtest_recv_exact(fd, req, 5, TIMEOUT_MS);
        assert_memory_equal(req, "file\n", 5);
        labtest_send(fd, cases[i].response, strlen(cases[i].response));
        close(fd);
        labtest_finish(&r, pid, so, se, TIMEOUT_MS);
        assert_int_equal(r.status, 1);
        snprintf(want, sizeof want, "synack-file-client: %s\n", cases[i].err);
        assert_string_equal(r.err, want);
        assert_int_equal(access(out, F_OK), -1); /* no partial file left */
        close(lfd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fetch_files, labtest_teardown),
        cmocka_unit_test_teardown(test_default_output_name, labtest_teardown),
        cmocka_unit_test_teardown(test_refusals, labtest_teardown),
        cmocka_unit_test_teardown(test_raw_protocol, labtest_teardown),
        cmocka_unit_test_teardown(test_close_order, labtest_teardown),
        cmocka_unit_test_teardown(test_stalled_client, labtest_teardown),
        cmocka_unit_test_teardown(test_client_checks, labtest_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
