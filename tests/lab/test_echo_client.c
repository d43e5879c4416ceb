/* test_echo_client.c -- synack-echo-client against synack-echo-server: the
 * summary line, sizes and counts, --upper, exit, half-close with data
 * after the FIN, failures and their messages, interactive mode.
 *
 * Part of the synack lab tests (ctest: lab_echo_client). */
#include "labtest.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 20000

struct summary {
    unsigned long long sent, received;
    char close[16];
    int port;
};

/* Parse the summary, which must be the last line of `out`, and check that
 * it is exactly in the documented format. */
static void parse_summary(const char *out, struct summary *s)
{
    const char *line = out, *nl;
    char again[256];

    assert_true(strlen(out) > 0 && out[strlen(out) - 1] == '\n');
    while ((nl = strchr(line, '\n')) != NULL && nl[1] != '\0')
        line = nl + 1;
    assert_int_equal(sscanf(line,
                            "sent %llu bytes, received %llu bytes, close %15[a-z], local port %d",
                            &s->sent, &s->received, s->close, &s->port),
                     4);
    snprintf(again, sizeof again, "sent %llu bytes, received %llu bytes, close %s, local port %d\n",
             s->sent, s->received, s->close, s->port);
    assert_string_equal(line, again);
    assert_true(s->port > 0 && s->port < 65536);
}

/* Run the client against `srv` with extra `args`. */
static void run_client(struct labtest_run *r, const struct labtest_server *srv,
                       const char *const *args, const char *stdin_text)
{
    const char *argv[32];
    char port[16];
    size_t n = 0;

    snprintf(port, sizeof port, "%d", srv->port);
    argv[n++] = "--port";
    argv[n++] = port;
    for (size_t i = 0; args[i] != NULL; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    labtest_run(r, "synack-echo-client", argv, NULL, stdin_text, TIMEOUT_MS);
}

static void test_send_lines(void **state)
{
    const char *sargs[] = {"--port", "0", "-q", NULL};
    const char *args[] = {"--send", "hello", "--send", "world", NULL};
    struct labtest_server srv;
    struct labtest_run r;
    struct summary s;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", sargs);
    run_client(&r, &srv, args, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    parse_summary(r.out, &s);
    assert_int_equal(s.sent, 12);
    assert_int_equal(s.received, 12);
    assert_string_equal(s.close, "fin");
    /* Scripted mode prints the summary and nothing else. */
    assert_int_equal(strchr(r.out, '\n') - r.out + 1, (long)strlen(r.out));
    labtest_server_stop(&srv);
}

static void test_size_count(void **state)
{
    const char *sargs[] = {"--port", "0", "-q", NULL};
    const char *args[] = {"--size", "3200", "--count", "3", "--mss", "1000", NULL};
    struct labtest_server srv;
    struct labtest_run r;
    struct summary s;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", sargs);
    run_client(&r, &srv, args, NULL);
    assert_int_equal(r.status, 0);
    parse_summary(r.out, &s);
    assert_int_equal(s.sent, 9600);
    assert_int_equal(s.received, 9600);
    labtest_server_stop(&srv);
}

static void test_upper(void **state)
{
    const char *uargs[] = {"--port", "0", "--upper", "-q", NULL};
    const char *pargs[] = {"--port", "0", "-q", NULL};
    const char *args[] = {"--upper", "--send", "MiXed 123 case", "--size", "500", NULL};
    struct labtest_server srv;
    struct labtest_run r;
    struct summary s;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", uargs);
    run_client(&r, &srv, args, NULL);
    assert_int_equal(r.status, 0);
    parse_summary(r.out, &s);
    assert_int_equal(s.received, 515);
    labtest_server_stop(&srv);

    /* Expecting upper case from a plain server is a mismatch: exit 1. */
    labtest_server_start(&srv, "synack-echo-server", pargs);
    run_client(&r, &srv, args, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "synack-echo-client: echo mismatch at byte 1: expected 'I' "
                                  "(0x49), got 'i' (0x69)\n"));
    parse_summary(r.out, &s);
    assert_string_equal(s.close, "failed");
    labtest_server_stop(&srv);
}

static void test_send_exit(void **state)
{
    const char *sargs[] = {"--port", "0", "-q", NULL};
    const char *args[] = {"--send", "bye", "--send-exit", NULL};
    struct labtest_server srv;
    struct labtest_run r;
    struct summary s;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", sargs);
    run_client(&r, &srv, args, NULL);
    assert_int_equal(r.status, 0);
    parse_summary(r.out, &s);
    assert_int_equal(s.sent, 4 + 5);
    assert_int_equal(s.received, 4);
    assert_string_equal(s.close, "passive"); /* the server closed first */
    labtest_server_stop(&srv);
}

/* --close half against --send-after-fin: data flows after our FIN. */
static void test_half_close_data_after_fin(void **state)
{
    const char *sargs[] = {"--port", "0", "--send-after-fin", "5000", "-q", NULL};
    const char *args[] = {"--size", "3000", "--close", "half", NULL};
    struct labtest_server srv;
    struct labtest_run r;
    struct summary s;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", sargs);
    run_client(&r, &srv, args, NULL);
    assert_int_equal(r.status, 0);
    parse_summary(r.out, &s);
    assert_int_equal(s.sent, 3000);
    assert_int_equal(s.received, 3000 + 5000);
    assert_string_equal(s.close, "half");
    labtest_server_stop(&srv);
}

/* The server closing after the first line breaks the second exchange. */
static void test_server_closes_early(void **state)
{
    const char *sargs[] = {"--port", "0", "--close-first", "-q", NULL};
    const char *args[] = {"--send", "one", "--send", "two", NULL};
    struct labtest_server srv;
    struct labtest_run r;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", sargs);
    run_client(&r, &srv, args, NULL);
    assert_int_equal(r.status, 1);
    assert_true(strstr(r.err, "closed the connection after echoing 0 of 4 bytes") != NULL ||
                strstr(r.err, "connection reset by peer") != NULL ||
                strstr(r.err, "broken pipe") != NULL);
    labtest_server_stop(&srv);
}

/* Nothing listening: a plain-words error, exit 1. */
static void test_refused(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    struct labtest_run r;
    char port[16], want[256];

    (void)state;
    /* A port bound but not listening: connecting to it is refused, and
     * nobody else can take it meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    snprintf(port, sizeof port, "%d", ntohs(sa.sin_port));
    const char *args[] = {"--port", port, "--send", "x", NULL};
    labtest_run(&r, "synack-echo-client", args, NULL, NULL, TIMEOUT_MS);
    close(fd);
    assert_int_equal(r.status, 1);
    snprintf(want, sizeof want,
             "synack-echo-client: cannot connect to 127.0.0.1 port %s: connection refused "
             "(nothing is listening there)\n",
             port);
    assert_string_equal(r.err, want);
    assert_string_equal(r.out, "");
}

/* Interactive: lines from stdin, echoes on stdout, "exit" to leave. */
static void test_interactive(void **state)
{
    const char *sargs[] = {"--port", "0", "-q", NULL};
    const char *args[] = {NULL};
    struct labtest_server srv;
    struct labtest_run r;
    struct summary s;

    (void)state;
    labtest_server_start(&srv, "synack-echo-server", sargs);
    run_client(&r, &srv, args, "first line\nsecond\nexit\nnot sent\n");
    assert_int_equal(r.status, 0);
    assert_memory_equal(r.out, "first line\nsecond\n", 18);
    parse_summary(r.out, &s);
    assert_int_equal(s.sent, 11 + 7 + 5);
    assert_int_equal(s.received, 18);
    assert_string_equal(s.close, "passive");

    /* End of input without exit: the client closes (fin). */
    run_client(&r, &srv, args, "only\n");
    assert_int_equal(r.status, 0);
    parse_summary(r.out, &s);
    assert_int_equal(s.sent, 5);
    assert_string_equal(s.close, "fin");
    labtest_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_send_lines, labtest_teardown),
        cmocka_unit_test_teardown(test_size_count, labtest_teardown),
        cmocka_unit_test_teardown(test_upper, labtest_teardown),
        cmocka_unit_test_teardown(test_send_exit, labtest_teardown),
        cmocka_unit_test_teardown(test_half_close_data_after_fin, labtest_teardown),
        cmocka_unit_test_teardown(test_server_closes_early, labtest_teardown),
        cmocka_unit_test_teardown(test_refused, labtest_teardown),
        cmocka_unit_test_teardown(test_interactive, labtest_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
