/* test_lab_unit.c -- unit tests of the lab's shared code: the file
 * protocol (status lines, name resolution beneath a root), the socket
 * helpers (listen, connect, accept, errors in plain words) and the filler
 * text.
 *
 * Part of the synack lab tests (ctest: lab_unit). */
#include "labtest.h"
#include "lab/fileproto.h"
#include "lab/lab.h"
#include "lab/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* fileproto_parse_status                                                   */
/* ------------------------------------------------------------------------ */

static int parse(const char *line, uint64_t *len, char *msg)
{
    const char *m = NULL;
    size_t mlen = 0;
    int rv = fileproto_parse_status(line, strlen(line), len, &m, &mlen);

    if (rv == 0) {
        memcpy(msg, m, mlen);
        msg[mlen] = '\0';
    }
    return rv;
}

static void test_parse_status(void **state)
{
    uint64_t len = 7;
    char msg[64];

    (void)state;
    assert_int_equal(parse("OK 0", &len, msg), 1);
    assert_int_equal(len, 0);
    assert_int_equal(parse("OK 123", &len, msg), 1);
    assert_int_equal(len, 123);
    assert_int_equal(parse("OK 18446744073709551615", &len, msg), 1);
    assert_true(len == UINT64_MAX);
    assert_int_equal(parse("ERR no such file", &len, msg), 0);
    assert_string_equal(msg, "no such file");
    assert_int_equal(parse("ERR ", &len, msg), 0);
    assert_string_equal(msg, "");
    /* Not this protocol. */
    const char *bad[] = {"OK",
                         "OK ",
                         "OK 01",
                         "OK -1",
                         "OK +1",
                         "OK 1 ",
                         "OK 1a",
                         "ok 1",
                         "ERR",
                         "ERRx",
                         "",
                         "OK 18446744073709551616",
                         "HTTP/1.0 200 OK"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(bad[i], &len, msg) != -1)
            fail_msg("'%s' accepted", bad[i]);
}

/* ------------------------------------------------------------------------ */
/* fileproto_open                                                           */
/* ------------------------------------------------------------------------ */

static char tree[256];
static int rootfd = -1;

static int tree_setup(void **state)
{
    char p[512];

    (void)state;
    snprintf(tree, sizeof tree, "/tmp/synack-labunit-XXXXXX");
    if (mkdtemp(tree) == NULL)
        return -1;
    snprintf(p, sizeof p, "%s/root", tree);
    if (mkdir(p, 0755))
        return -1;
    rootfd = open(p, O_RDONLY | O_DIRECTORY);
    if (rootfd < 0 || mkdirat(rootfd, "d", 0755) || mkdirat(rootfd, "d/e", 0755) ||
        symlinkat("d", rootfd, "dl") || symlinkat("/etc/passwd", rootfd, "abs") ||
        mkfifoat(rootfd, "fifo", 0644))
        return -1;
    int fd = openat(rootfd, "d/e/f", O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || write(fd, "12345", 5) != 5)
        return -1;
    close(fd);
    return 0;
}

static int tree_teardown(void **state)
{
    char cmd[512];

    (void)state;
    /* Names we made ourselves, beneath a mkdtemp() directory. */
    unlinkat(rootfd, "d/e/f", 0);
    unlinkat(rootfd, "d/e", AT_REMOVEDIR);
    unlinkat(rootfd, "d", AT_REMOVEDIR);
    unlinkat(rootfd, "dl", 0);
    unlinkat(rootfd, "abs", 0);
    unlinkat(rootfd, "fifo", 0);
    close(rootfd);
    snprintf(cmd, sizeof cmd, "%s/root", tree);
    rmdir(cmd);
    rmdir(tree);
    return 0;
}

/* Open `name` beneath the tree; returns the size or -1 with *why. */
static long long try_open(const char *name, size_t len, const char **why)
{
    uint64_t size = 0;
    int fd = fileproto_open(rootfd, name, len, &size, why);

    if (fd == -1)
        return -1;
    close(fd);
    return (long long)size;
}

static void expect_refused(const char *name, size_t len, const char *why)
{
    const char *got = NULL;

    if (try_open(name, len, &got) != -1)
        fail_msg("'%s' was opened", name);
    assert_string_equal(got, why);
}

static void test_open_beneath_root(void **state)
{
    static char longname[FILEPROTO_NAME_MAX + 2];
    const char *why;

    (void)state;
    assert_int_equal(try_open("d/e/f", 5, &why), 5);
    assert_int_equal(try_open("./d//e/./f", 10, &why), 5);
    expect_refused("", 0, "empty name");
    expect_refused("d/e/f\0x", 7, "NUL byte in name");
    expect_refused("/etc/passwd", 11, "absolute paths are refused");
    expect_refused("..", 2, "'..' is refused (it would leave the root)");
    expect_refused("d/../d/e/f", 10, "'..' is refused (it would leave the root)");
    expect_refused("d/e/..", 6, "'..' is refused (it would leave the root)");
    expect_refused("dl/e/f", 6, "symbolic links are not followed");
    expect_refused("abs", 3, "symbolic links are not followed");
    expect_refused("fifo", 4, "not a regular file"); /* and no hang */
    expect_refused("d", 1, "not a regular file");
    expect_refused("d/e/f/", 6, "not a regular file"); /* a trailing '/' means a directory */
    expect_refused(".", 1, "not a regular file");
    expect_refused("nope", 4, "no such file");
    expect_refused("d/e/f/g", 7, "no such file (a path component is not a directory)");
    memset(longname, 'a', sizeof longname);
    expect_refused(longname, FILEPROTO_NAME_MAX + 1, "name too long");
    expect_refused(longname, 300, "name too long"); /* one component > NAME_MAX */
    /* ".." is refused even where it would be harmless, and "..." is a name. */
    expect_refused("...", 3, "no such file");
}

/* ------------------------------------------------------------------------ */
/* net                                                                      */
/* ------------------------------------------------------------------------ */

static void test_listen_connect_accept(void **state)
{
    char err[NET_ERR_LEN], ip[NET_ADDR_LEN];
    int port, peer_port, local_port;

    (void)state;
    int lfd = net_tcp_server(err, "127.0.0.1", 0, 8, 0);
    assert_true(lfd >= 0);
    assert_int_equal(net_sock_name(err, lfd, false, ip, sizeof ip, &port), NET_OK);
    assert_string_equal(ip, "127.0.0.1");
    assert_true(port > 0);
    int cfd = net_tcp_connect(err, "127.0.0.1", port, NULL);
    assert_true(cfd >= 0);
    int afd = net_accept(err, lfd, ip, sizeof ip, &peer_port);
    assert_true(afd >= 0);
    assert_string_equal(ip, "127.0.0.1");
    assert_int_equal(net_sock_name(err, cfd, false, NULL, 0, &local_port), NET_OK);
    assert_int_equal(peer_port, local_port);
    assert_int_equal(net_send_all(err, cfd, "ping", 4), NET_OK);
    char buf[4];
    labtest_recv_exact(afd, buf, 4, 5000);
    assert_memory_equal(buf, "ping", 4);
    close(afd);
    close(cfd);
    close(lfd);
}

/* Every address: one dual-stack socket on ::, IPv4 peers shown plainly. */
static void test_dual_stack(void **state)
{
    char err[NET_ERR_LEN], ip[NET_ADDR_LEN];
    int port, peer_port;

    (void)state;
    int lfd = net_tcp_server(err, NULL, 0, 8, 0);
    assert_true(lfd >= 0);
    assert_int_equal(net_sock_name(err, lfd, false, ip, sizeof ip, &port), NET_OK);
    if (strcmp(ip, "0.0.0.0") == 0) {
        print_message("no IPv6 here: fell back to 0.0.0.0\n");
    } else {
        assert_string_equal(ip, "::");
        int v6 = net_tcp_connect(err, "::1", port, NULL);
        assert_true(v6 >= 0);
        int a6 = net_accept(err, lfd, ip, sizeof ip, &peer_port);
        assert_string_equal(ip, "::1");
        close(a6);
        close(v6);
    }
    int v4 = net_tcp_connect(err, "127.0.0.1", port, NULL);
    assert_true(v4 >= 0);
    int a4 = net_accept(err, lfd, ip, sizeof ip, &peer_port);
    assert_true(a4 >= 0);
    assert_string_equal(ip, "127.0.0.1"); /* not ::ffff:127.0.0.1 */
    close(a4);
    close(v4);
    close(lfd);
}

static void test_errors_in_plain_words(void **state)
{
    char err[NET_ERR_LEN], want[NET_ERR_LEN];
    int port;

    (void)state;
    /* Refused: a port bound but not listening. */
    int hold = net_tcp_server(err, "127.0.0.1", 0, 1, 0);
    assert_true(hold >= 0);
    int lfd = net_tcp_server(err, "127.0.0.1", 0, 8, 0);
    assert_int_equal(net_sock_name(err, lfd, false, NULL, 0, &port), NET_OK);
    /* Listening twice on one port: in use. */
    assert_int_equal(net_tcp_server(err, "127.0.0.1", port, 8, 0), NET_ERR);
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1 port %d: bind: address already in use",
             port);
    assert_string_equal(err, want);
    close(lfd);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(net_tcp_connect(err, "127.0.0.1", port, NULL), NET_ERR);
    snprintf(want, sizeof want,
             "cannot connect to 127.0.0.1 port %d: connection refused (nothing is listening "
             "there)",
             port);
    assert_string_equal(err, want);
    close(s);
    close(hold);
    /* Unresolvable. */
    assert_int_equal(net_tcp_connect(err, "no-such-host.invalid", 80, NULL), NET_ERR);
    assert_non_null(strstr(err, "cannot resolve no-such-host.invalid: "));
    /* A NULL err is allowed. */
    assert_int_equal(net_tcp_connect(NULL, "no-such-host.invalid", 80, NULL), NET_ERR);
    assert_string_equal(net_connect_strerror(ETIMEDOUT),
                        "connection timed out (no answer from the other end)");
    assert_string_equal(net_connect_strerror(EHOSTUNREACH), "host unreachable (no route to it)");
}

/* ------------------------------------------------------------------------ */
/* lab_filler                                                               */
/* ------------------------------------------------------------------------ */

static void test_filler(void **state)
{
    unsigned char a[300], b[100];

    (void)state;
    lab_filler(a, sizeof a, 0);
    assert_memory_equal(a, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\n", 64);
    assert_memory_equal(a + 64, "123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01\n",
                        64);
    for (size_t i = 0; i < sizeof a; i++)
        assert_true((a[i] >= 0x20 && a[i] < 0x7f) || (a[i] == '\n' && i % 64 == 63));
    /* Any window of the stream is the same bytes. */
    lab_filler(b, sizeof b, 150);
    assert_memory_equal(b, a + 150, sizeof b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_status),          cmocka_unit_test(test_open_beneath_root),
        cmocka_unit_test(test_listen_connect_accept), cmocka_unit_test(test_dual_stack),
        cmocka_unit_test(test_errors_in_plain_words), cmocka_unit_test(test_filler),
    };

    return cmocka_run_group_tests(tests, tree_setup, tree_teardown);
}
