/* test_echo_server.c -- synack-echo-server's behaviours, one by one: abrupt
 * clients, a slow reader, the "exit" line, --close-first, --rst,
 * --send-after-fin, --pause-ms with --rcvbuf (zero window), SIGTERM.
 *
 * Part of the synack lab tests (ctest: lab_echo_server). */
#include "labtest.h"
#include "lab/lab.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

/* Deterministic test bytes: `len` bytes for stream offset `off` of stream
 * `seed`, never containing 'x' (so never an "exit" line). */
static void pattern(unsigned char *buf, size_t len, uint64_t seed, uint64_t off)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t st = (seed ^ ((off + i) / 8 + 1) * 0x9E3779B97F4A7C15ULL) | 1;
        unsigned char b = (unsigned char)(labtest_rand(&st) >> (8 * ((off + i) % 8)));
        buf[i] = b == 'x' ? 'y' : b;
    }
}

/* Send `len` pattern bytes while reading the echo; assert it is exact. */
static void echo_roundtrip(int fd, size_t len, uint64_t seed)
{
    unsigned char *out = malloc(len), *in = malloc(len);
    size_t sent = 0, got = 0;

    assert_non_null(out);
    assert_non_null(in);
    pattern(out, len, seed, 0);
    while (got < len) {
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (sent < len ? POLLOUT : 0))};
        assert_int_equal(poll(&p, 1, TIMEOUT_MS), 1);
        if ((p.revents & POLLOUT) && sent < len) {
            ssize_t n = send(fd, out + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            assert_true(n > 0 || errno == EAGAIN);
            if (n > 0)
                sent += (size_t)n;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, in + got, len - got, MSG_DONTWAIT);
            assert_true(n > 0 || (n == -1 && errno == EAGAIN));
            if (n > 0)
                got += (size_t)n;
        }
    }
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
}

static void set_linger_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
}

/* Everything the server sends until EOF must be exactly `want`. */
static void expect_then_eof(int fd, const char *want)
{
    char buf[256];
    int err;
    size_t n = labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err);

    assert_int_equal(err, 0); /* FIN, not RST */
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}

/* ------------------------------------------------------------------------ */

/* Clients that reset mid-message, half-close, or connect and stay silent:
 * the server keeps serving a well-behaved client meanwhile, and all its
 * descriptors come back once they are gone. */
static void test_abrupt_clients(void **state)
{
    const char *args[] = {"--port", "0", "-q", NULL};
    struct labtest_server srv;
    int silent[20], resetters[20], halfs[20];
    unsigned char msg[10000], back[3000];

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);
    int idle = labtest_fd_count(srv.pid);
    int good = labtest_connect(srv.port);
    pattern(msg, sizeof msg, 7, 0);

    for (int i = 0; i < 20; i++) {
        silent[i] = labtest_connect(srv.port);
        resetters[i] = labtest_connect(srv.port);
        halfs[i] = labtest_connect(srv.port);
    }
    /* Half a message, then an abortive close. */
    for (int i = 0; i < 20; i++) {
        labtest_send(resetters[i], msg, sizeof msg / 2);
        set_linger_rst(resetters[i]);
        close(resetters[i]);
    }
    /* A message, a FIN, then the whole echo must still arrive. */
    for (int i = 0; i < 20; i++) {
        labtest_send(halfs[i], msg, sizeof back);
        assert_int_equal(shutdown(halfs[i], SHUT_WR), 0);
    }
    /* The silent clients are still connected: the good one is served. */
    echo_roundtrip(good, 200000, 11);
    for (int i = 0; i < 20; i++) {
        int err;
        size_t n = labtest_recv_all(halfs[i], back, sizeof back, TIMEOUT_MS, &err);
        assert_int_equal(n, sizeof back);
        assert_memory_equal(back, msg, sizeof back);
        assert_int_equal(labtest_recv_all(halfs[i], back, sizeof back, TIMEOUT_MS, &err), 0);
        assert_int_equal(err, 0); /* then EOF: the server closed after our FIN */
        close(halfs[i]);
    }
    echo_roundtrip(good, 1000, 12);
    assert_true(labtest_alive(srv.pid));
    /* Server fds now: idle + good + 20 silent, whatever else happened. */
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle + 21, TIMEOUT_MS), idle + 21);
    for (int i = 0; i < 20; i++)
        close(silent[i]);
    close(good);
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle, TIMEOUT_MS), idle);
    labtest_server_stop(&srv);
}

/* A client that sends without reading is pushed back on (the server's
 * memory for it is bounded) without losing bytes or blocking others. */
static void test_slow_reader(void **state)
{
    const char *args[] = {"--port", "0", "-q", NULL};
    struct labtest_server srv;
    static unsigned char chunk[64 * 1024], in[256 * 1024], want[256 * 1024];
    const size_t cap = (size_t)512 << 20;
    size_t sent = 0, got = 0;
    int small = 16 * 1024;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);
    int slow = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(slow, (struct sockaddr *)&sa, sizeof sa), 0);

    /* Send without reading until the connection is stuck for 300 ms. */
    for (;;) {
        pattern(chunk, sizeof chunk, 99, sent);
        ssize_t n = send(slow, chunk, sizeof chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            if (sent > cap)
                fail_msg("server took %zu bytes without pushing back", sent);
            continue;
        }
        assert_int_equal(errno, EAGAIN);
        struct pollfd p = {.fd = slow, .events = POLLOUT};
        if (poll(&p, 1, 300) == 0)
            break; /* back-pressure reached us */
    }
    print_message("slow reader stuck after %zu bytes\n", sent);
    /* Others are served meanwhile. */
    int other = labtest_connect(srv.port);
    echo_roundtrip(other, 100000, 5);
    close(other);
    /* The slow reader finally reads: every byte it sent comes back. */
    while (got < sent) {
        size_t len = sent - got < sizeof in ? sent - got : sizeof in;
        labtest_recv_exact(slow, in, len, TIMEOUT_MS);
        pattern(want, len, 99, got);
        if (memcmp(in, want, len) != 0)
            fail_msg("slow reader: echo differs within bytes %zu..%zu", got, got + len);
        got += len;
    }
    close(slow);
    labtest_server_stop(&srv);
}

/* The line "exit" closes the connection and is never echoed, however it
 * is split across segments; lines that merely look like it are echoed. */
static void test_exit_line(void **state)
{
    const char *args[] = {"--port", "0", "-q", NULL};
    struct labtest_server srv;
    char buf[64];

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);

    int fd = labtest_connect(srv.port);
    labtest_send(fd, "hello\nexit\n", 11);
    expect_then_eof(fd, "hello\n");
    close(fd);

    /* "ex" is held back only until the line decides. */
    fd = labtest_connect(srv.port);
    labtest_send(fd, "hello\nex", 8);
    labtest_recv_exact(fd, buf, 6, TIMEOUT_MS);
    assert_memory_equal(buf, "hello\n", 6);
    labtest_send(fd, "ix\n", 3);
    labtest_recv_exact(fd, buf, 5, TIMEOUT_MS);
    assert_memory_equal(buf, "exix\n", 5);
    labtest_send(fd, " exit\nexitx\nEXIT\nexi", 20);
    labtest_recv_exact(fd, buf, 17, TIMEOUT_MS);
    assert_memory_equal(buf, " exit\nexitx\nEXIT\n", 17);
    labtest_send(fd, "t\r\n", 3);
    expect_then_eof(fd, "");
    close(fd);

    /* A half-closed "ex" without newline is data: echoed before the FIN. */
    fd = labtest_connect(srv.port);
    labtest_send(fd, "ex", 2);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    expect_then_eof(fd, "ex");
    close(fd);
    labtest_server_stop(&srv);
}

/* --close-first: the first line is echoed, then the server closes (FIN). */
static void test_close_first(void **state)
{
    const char *args[] = {"--port", "0", "--close-first", "-q", NULL};
    struct labtest_server srv;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);
    int idle = labtest_fd_count(srv.pid);
    int fd = labtest_connect(srv.port);
    labtest_send(fd, "one\n", 4);
    expect_then_eof(fd, "one\n");
    /* The server closed first: its descriptor is gone while ours is open. */
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle, TIMEOUT_MS), idle);
    close(fd);
    labtest_server_stop(&srv);
}

/* --rst: the server's close is an abort, seen as ECONNRESET. */
static void test_rst(void **state)
{
    const char *args[] = {"--port", "0", "--rst", "-q", NULL};
    struct labtest_server srv;
    char buf[16];
    int err;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);
    int fd = labtest_connect(srv.port);
    labtest_send(fd, "hi\n", 3);
    labtest_recv_exact(fd, buf, 3, TIMEOUT_MS);
    assert_memory_equal(buf, "hi\n", 3);
    labtest_send(fd, "exit\n", 5);
    assert_int_equal(labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err), 0);
    assert_int_equal(err, ECONNRESET);
    close(fd);
    labtest_server_stop(&srv);
}

/* --send-after-fin N: after our FIN the server still sends the echo and N
 * bytes of filler, then closes. */
static void test_send_after_fin(void **state)
{
    const char *args[] = {"--port", "0", "--send-after-fin", "100000", "-q", NULL};
    struct labtest_server srv;
    static unsigned char buf[200000], want[100000];
    int err;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);
    int fd = labtest_connect(srv.port);
    labtest_send(fd, "abc\n", 4);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    size_t n = labtest_recv_all(fd, buf, sizeof buf, TIMEOUT_MS, &err);
    assert_int_equal(err, 0);
    assert_int_equal(n, 4 + sizeof want);
    assert_memory_equal(buf, "abc\n", 4);
    lab_filler(want, sizeof want, 0);
    assert_memory_equal(buf + 4, want, sizeof want);
    close(fd);
    labtest_server_stop(&srv);
}

/* --pause-ms with a small --rcvbuf: the client's sends stall against a
 * zero window, then everything is echoed once the server reads. */
static void test_pause_zero_window(void **state)
{
    const char *args[] = {"--port", "0", "--pause-ms", "1500", "--rcvbuf", "4096", "-q", NULL};
    struct labtest_server srv;
    static unsigned char chunk[300000];
    size_t sent = 0;
    bool zero = false;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);
    int64_t t0 = labtest_now_ms();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 16 * 1024; /* no send-buffer autotuning to hide the stall */
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    pattern(chunk, sizeof chunk, 3, 0);
    /* Fill whatever the windows and buffers take right now. */
    for (;;) {
        ssize_t n = send(fd, chunk + sent, sizeof chunk - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    assert_true(sent < sizeof chunk); /* the server is not reading yet */
    /* The peer's window must drop to zero while the server is paused. */
    while (!zero && labtest_now_ms() - t0 < 1200) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
        zero = ti.tcpi_snd_wnd == 0;
        if (!zero)
            poll(NULL, 0, 5);
    }
    assert_true(zero);
    close(fd);
    /* The same again, now checking the whole echo and its timing. */
    fd = labtest_connect(srv.port);
    int64_t t1 = labtest_now_ms();
    echo_roundtrip(fd, sizeof chunk, 3);
    assert_true(labtest_now_ms() - t1 >= 1400); /* nothing before the pause ends */
    close(fd);
    labtest_server_stop(&srv);
}

/* SIGTERM: idle clients get a FIN, the server exits 0 with nothing more on
 * stdout (checked by labtest_server_stop). */
static void test_sigterm_graceful(void **state)
{
    const char *args[] = {"--port", "0", "-q", NULL};
    struct labtest_server srv;
    int fds[5];

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", args);
    int idle = labtest_fd_count(srv.pid);
    for (int i = 0; i < 5; i++)
        fds[i] = labtest_connect(srv.port);
    echo_roundtrip(fds[0], 10, 1);
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle + 5, TIMEOUT_MS), idle + 5);
    labtest_server_stop(&srv);
    for (int i = 0; i < 5; i++) {
        expect_then_eof(fds[i], "");
        close(fds[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_abrupt_clients, labtest_teardown),
        cmocka_unit_test_teardown(test_slow_reader, labtest_teardown),
        cmocka_unit_test_teardown(test_exit_line, labtest_teardown),
        cmocka_unit_test_teardown(test_close_first, labtest_teardown),
        cmocka_unit_test_teardown(test_rst, labtest_teardown),
        cmocka_unit_test_teardown(test_send_after_fin, labtest_teardown),
        cmocka_unit_test_teardown(test_pause_zero_window, labtest_teardown),
        cmocka_unit_test_teardown(test_sigterm_graceful, labtest_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
