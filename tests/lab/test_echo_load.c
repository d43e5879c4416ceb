/* test_echo_load.c -- synack-echo-server under load: hundreds of clients
 * at once, each streaming messages of random sizes (1 byte to 64 KiB) and
 * checking every echoed byte, all driven from one poll() loop here.
 *
 * Part of the synack lab tests (ctest: lab_echo_load). */
#include "labtest.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOAD_MSGS 50
#define LOAD_MSG_MAX (64 * 1024)
#define LOAD_POOL (1 << 20)
#define LOAD_DEADLINE_MS 120000

/* The bytes every client sends, from its own start offset in the pool,
 * and what the echo must be (identical, or upper-cased). */
static unsigned char pool[LOAD_POOL], pool_upper[LOAD_POOL];

struct load_client {
    int fd;
    bool connected, done;
    uint64_t start;              /* offset of this client's stream in the pool */
    uint64_t total, sent, recvd; /* stream length, bytes sent and echoed */
    uint32_t sizes[LOAD_MSGS];   /* message sizes */
    size_t msg;                  /* message being sent */
    uint64_t msg_end;            /* stream offset where it ends */
};

/* Random bytes, with no 'x': the line "exit" can never appear. */
static void load_fill_pool(uint64_t seed)
{
    uint64_t st = seed;

    for (size_t i = 0; i < LOAD_POOL; i++) {
        unsigned char b = (unsigned char)(labtest_rand(&st) >> 56);
        if (b == 'x')
            b = 'y';
        pool[i] = b;
        pool_upper[i] = b >= 'a' && b <= 'z' ? (unsigned char)(b - 'a' + 'A') : b;
    }
}

/* Bytes of the stream from offset `off` that lie contiguously in the pool. */
static size_t load_span(const struct load_client *c, uint64_t off, size_t want)
{
    size_t pos = (size_t)((c->start + off) % LOAD_POOL);

    return want < LOAD_POOL - pos ? want : LOAD_POOL - pos;
}

static void load_send(struct load_client *c, int idx)
{
    while (c->sent < c->total) {
        size_t len = load_span(c, c->sent, (size_t)(c->msg_end - c->sent));
        ssize_t n = send(c->fd, pool + (c->start + c->sent) % LOAD_POOL, len, MSG_NOSIGNAL);
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0)
            fail_msg("client %d: send failed after %llu bytes: %s", idx,
                     (unsigned long long)c->sent, strerror(errno));
        c->sent += (uint64_t)n;
        if (c->sent == c->msg_end && c->msg + 1 < LOAD_MSGS)
            c->msg_end += c->sizes[++c->msg];
    }
}

static void load_recv(struct load_client *c, int idx, bool upper)
{
    static unsigned char buf[256 * 1024];
    const unsigned char *want = upper ? pool_upper : pool;
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);

    if (n == -1 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0)
        fail_msg("client %d: connection ended after %llu of %llu echoed bytes (%s)", idx,
                 (unsigned long long)c->recvd, (unsigned long long)c->total,
                 n == 0 ? "EOF" : strerror(errno));
    if ((uint64_t)n > c->sent - c->recvd)
        fail_msg("client %d: more echo than was sent", idx);
    for (size_t done = 0; done < (size_t)n;) {
        size_t len = load_span(c, c->recvd, (size_t)n - done);
        if (memcmp(buf + done, want + (c->start + c->recvd) % LOAD_POOL, len) != 0)
            fail_msg("client %d: echo differs within bytes %llu..%llu", idx,
                     (unsigned long long)c->recvd, (unsigned long long)(c->recvd + len));
        done += len;
        c->recvd += len;
    }
    if (c->recvd == c->total) {
        close(c->fd);
        c->fd = -1;
        c->done = true;
    }
}

/* Start a server with `args`, drive `nclients` clients through it, check
 * every echo, then check that the server is back to its idle descriptors. */
static void load_run(const char *const *args, int nclients, bool upper, uint64_t seed)
{
    struct labtest_server srv;
    struct load_client *cl = calloc((size_t)nclients, sizeof *cl);
    struct pollfd *pf = calloc((size_t)nclients, sizeof *pf);
    int *idx = calloc((size_t)nclients, sizeof *idx);
    uint64_t st = seed, bytes = 0;
    int64_t deadline = labtest_now_ms() + LOAD_DEADLINE_MS;
    int left = nclients;

    assert_non_null(cl);
    assert_non_null(pf);
    assert_non_null(idx);
    load_fill_pool(seed);
    labtest_server_start(&srv, "synack-echo-server", args);
    int idle = labtest_fd_count(srv.pid);

    for (int i = 0; i < nclients; i++) {
        struct load_client *c = &cl[i];
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        c->start = labtest_rand(&st) % LOAD_POOL;
        for (int m = 0; m < LOAD_MSGS; m++) {
            c->sizes[m] = (uint32_t)(1 + labtest_rand(&st) % LOAD_MSG_MAX);
            c->total += c->sizes[m];
        }
        c->msg_end = c->sizes[0];
        bytes += c->total;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(c->fd >= 0);
        int rc = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
        assert_true(rc == 0 || errno == EINPROGRESS);
        c->connected = rc == 0;
    }

    while (left > 0) {
        int n = 0;
        for (int i = 0; i < nclients; i++) {
            if (cl[i].done)
                continue;
            short ev = cl[i].connected ? POLLIN : 0;
            if (!cl[i].connected || cl[i].sent < cl[i].total)
                ev |= POLLOUT;
            pf[n] = (struct pollfd){.fd = cl[i].fd, .events = ev};
            idx[n++] = i;
        }
        int wait = (int)(deadline - labtest_now_ms());
        if (wait <= 0)
            fail_msg("%d of %d clients unfinished after %d ms", left, nclients, LOAD_DEADLINE_MS);
        assert_true(poll(pf, (nfds_t)n, wait) >= 0);
        for (int k = 0; k < n; k++) {
            struct load_client *c = &cl[idx[k]];
            if (pf[k].revents == 0)
                continue;
            if (!c->connected) {
                int e = 0;
                socklen_t len = sizeof e;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len);
                if (e != 0)
                    fail_msg("client %d: connect failed: %s", idx[k], strerror(e));
                c->connected = true;
                continue;
            }
            if (pf[k].revents & POLLOUT)
                load_send(c, idx[k]);
            if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
                load_recv(c, idx[k], upper);
            if (c->done)
                left--;
        }
    }
    print_message("%d clients, %llu bytes echoed byte-exact\n", nclients,
                  (unsigned long long)bytes);

    /* Every client is gone: the server must be back to its idle set. */
    assert_int_equal(labtest_wait_fd_count(srv.pid, idle, 5000), idle);
    assert_true(labtest_alive(srv.pid));
    labtest_server_stop(&srv);
    free(cl);
    free(pf);
    free(idx);
}

static void test_200_clients_plain(void **state)
{
    const char *args[] = {"--port", "0", "--backlog", "256", "-q", NULL};

    (void)state;
    load_run(args, 200, false, 0x5eed0001);
}

static void test_clients_upper(void **state)
{
    const char *args[] = {"--port", "0", "--upper", "-q", NULL};

    (void)state;
    load_run(args, 50, true, 0x5eed0002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_200_clients_plain, labtest_teardown),
        cmocka_unit_test_teardown(test_clients_upper, labtest_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
