/* test_close_modes.c -- synack-echo-client's TCP behaviours as its peer
 * sees them: a tiny echo server in this test accepts the client and
 * observes --close fin (EOF), rst (ECONNRESET), half (EOF while it can
 * still send), --mss, --bind-port and --keepalive.
 *
 * Part of the synack lab tests (ctest: lab_close_modes). */
#include "labtest.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

struct peer {
    int lfd, port;
    char portstr[16];
};

static void peer_listen(struct peer *p)
{
    p->lfd = labtest_listen(&p->port);
    snprintf(p->portstr, sizeof p->portstr, "%d", p->port);
}

/* Start the client against the peer with `extra` arguments. */
static pid_t client_start(const struct peer *p, const char *const *extra, int *out, int *err)
{
    const char *argv[32] = {"--port", p->portstr};
    size_t n = 2;

    for (size_t i = 0; extra[i] != NULL; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return labtest_spawn("synack-echo-client", argv, NULL, NULL, out, err);
}

/* Accept the client, read its "hello\n" and echo it. */
static int accept_and_echo(const struct peer *p)
{
    char buf[6];
    int fd = labtest_accept(p->lfd, TIMEOUT_MS);

    labtest_recv_exact(fd, buf, sizeof buf, TIMEOUT_MS);
    assert_memory_equal(buf, "hello\n", 6);
    labtest_send(fd, buf, sizeof buf);
    return fd;
}

/* The client's summary must report `close` and `received` bytes. */
static void expect_summary(const struct labtest_run *r, const char *close_word,
                           unsigned long long received)
{
    unsigned long long s, rcv;
    char word[16];
    int port;

    assert_int_equal(r->status, 0);
    assert_int_equal(sscanf(r->out,
                            "sent %llu bytes, received %llu bytes, close %15[a-z], "
                            "local port %d",
                            &s, &rcv, word, &port),
                     4);
    assert_string_equal(word, close_word);
    assert_int_equal(rcv, received);
}

/* Our end of the connection after the client is done with it. */
static int observe(int fd, char *buf, size_t cap)
{
    int err;
    size_t n = labtest_recv_all(fd, buf, cap, TIMEOUT_MS, &err);

    assert_int_equal(n, 0); /* nothing beyond the message */
    return err;
}

static void test_close_fin(void **state)
{
    const char *args[] = {"--send", "hello", "--close", "fin", NULL};
    struct peer p;
    struct labtest_run r;
    char buf[16];
    int out, err;

    (void)state;
    peer_listen(&p);
    pid_t pid = client_start(&p, args, &out, &err);
    int fd = accept_and_echo(&p);
    assert_int_equal(observe(fd, buf, sizeof buf), 0); /* EOF: a FIN */
    labtest_finish(&r, pid, out, err, TIMEOUT_MS);
    expect_summary(&r, "fin", 6);
    close(fd);
    close(p.lfd);
}

static void test_close_rst(void **state)
{
    const char *args[] = {"--send", "hello", "--close", "rst", NULL};
    struct peer p;
    struct labtest_run r;
    char buf[16];
    int out, err;

    (void)state;
    peer_listen(&p);
    pid_t pid = client_start(&p, args, &out, &err);
    int fd = accept_and_echo(&p);
    assert_int_equal(observe(fd, buf, sizeof buf), ECONNRESET); /* an RST */
    labtest_finish(&r, pid, out, err, TIMEOUT_MS);
    expect_summary(&r, "rst", 6);
    close(fd);
    close(p.lfd);
}

/* Half-close: the client's FIN comes right after its message; we can
 * still send the echo and more, and the client receives all of it. */
static void test_close_half(void **state)
{
    static const char more[] = "data after your FIN\n";
    const char *args[] = {"--send", "hello", "--close", "half", NULL};
    struct peer p;
    struct labtest_run r;
    char buf[16];
    int out, err;

    (void)state;
    peer_listen(&p);
    pid_t pid = client_start(&p, args, &out, &err);
    int fd = labtest_accept(p.lfd, TIMEOUT_MS);
    labtest_recv_exact(fd, buf, 6, TIMEOUT_MS);
    assert_memory_equal(buf, "hello\n", 6);
    assert_int_equal(observe(fd, buf, sizeof buf), 0); /* its FIN, before any echo */
    labtest_send(fd, "hello\n", 6);
    labtest_send(fd, more, sizeof more - 1);
    close(fd);
    labtest_finish(&r, pid, out, err, TIMEOUT_MS);
    expect_summary(&r, "half", 6 + sizeof more - 1);
    close(p.lfd);
}

/* --mss N is the MSS announced in the SYN, so our side's segment size. */
static void test_mss(void **state)
{
    const char *small[] = {"--send", "hello", "--mss", "536", NULL};
    const char *plain[] = {"--send", "hello", NULL};
    struct peer p;
    struct labtest_run r;
    char buf[16];
    int out, err, mss;
    socklen_t len = sizeof mss;

    (void)state;
    peer_listen(&p);
    pid_t pid = client_start(&p, small, &out, &err);
    int fd = accept_and_echo(&p);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
    assert_true(mss > 0 && mss <= 536);
    assert_int_equal(observe(fd, buf, sizeof buf), 0);
    labtest_finish(&r, pid, out, err, TIMEOUT_MS);
    expect_summary(&r, "fin", 6);
    close(fd);

    pid = client_start(&p, plain, &out, &err);
    fd = accept_and_echo(&p);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
    assert_true(mss > 536); /* loopback's own is far larger */
    assert_int_equal(observe(fd, buf, sizeof buf), 0);
    labtest_finish(&r, pid, out, err, TIMEOUT_MS);
    expect_summary(&r, "fin", 6);
    close(fd);
    close(p.lfd);
}

/* --bind-port P: the connection comes from P, twice in a row (the peer
 * closes first, so the 4-tuple's TIME_WAIT is on our side and a new SYN
 * may reuse it). */
static void test_bind_port(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    struct peer p;
    struct labtest_run r;
    char port[16];
    int out, err;

    (void)state;
    peer_listen(&p);
    /* A port that was free a moment ago. */
    int tmp = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(tmp, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(tmp, (struct sockaddr *)&sa, &len), 0);
    int want = ntohs(sa.sin_port);
    close(tmp);
    snprintf(port, sizeof port, "%d", want);
    const char *args[] = {"--send", "hello", "--bind-port", port, NULL};

    for (int round = 0; round < 2; round++) {
        pid_t pid = client_start(&p, args, &out, &err);
        int fd = accept_and_echo(&p);
        len = sizeof sa;
        assert_int_equal(getpeername(fd, (struct sockaddr *)&sa, &len), 0);
        assert_int_equal(ntohs(sa.sin_port), want);
        close(fd); /* we close first */
        labtest_finish(&r, pid, out, err, TIMEOUT_MS);
        assert_int_equal(r.status, 0);
        unsigned long long s, rcv;
        char word[16];
        int lport;
        assert_int_equal(sscanf(r.out,
                                "sent %llu bytes, received %llu bytes, close %15[a-z], "
                                "local port %d",
                                &s, &rcv, word, &lport),
                         4);
        assert_int_equal(lport, want);
    }
    close(p.lfd);
}

/* Segments received on our side of `fd` so far. */
static unsigned segs_in(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;

    memset(&ti, 0, sizeof ti);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    return ti.tcpi_segs_in;
}

/* --keepalive 1,1,5 with --hold-ms: probes arrive during the idle time;
 * a client holding the same time without keep-alive sends none. */
static void test_keepalive(void **state)
{
    const char *ka[] = {"--keepalive", "1,1,5", "--hold-ms", "1700", NULL};
    const char *plain[] = {"--hold-ms", "1700", NULL};
    struct peer p;
    struct labtest_run r;
    char buf[16];
    int out[2], err[2];
    pid_t pid[2];
    int fd[2];

    (void)state;
    peer_listen(&p);
    pid[0] = client_start(&p, ka, &out[0], &err[0]);
    fd[0] = labtest_accept(p.lfd, TIMEOUT_MS);
    pid[1] = client_start(&p, plain, &out[1], &err[1]);
    fd[1] = labtest_accept(p.lfd, TIMEOUT_MS);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(observe(fd[i], buf, sizeof buf), 0);
        labtest_finish(&r, pid[i], out[i], err[i], TIMEOUT_MS);
        expect_summary(&r, "fin", 0);
    }
    unsigned with = segs_in(fd[0]), without = segs_in(fd[1]);
    print_message("segments in: %u with keep-alive, %u without\n", with, without);
    assert_true(with >= without + 1);
    close(fd[0]);
    close(fd[1]);
    close(p.lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_close_fin, labtest_teardown),
        cmocka_unit_test_teardown(test_close_rst, labtest_teardown),
        cmocka_unit_test_teardown(test_close_half, labtest_teardown),
        cmocka_unit_test_teardown(test_mss, labtest_teardown),
        cmocka_unit_test_teardown(test_bind_port, labtest_teardown),
        cmocka_unit_test_teardown(test_keepalive, labtest_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
