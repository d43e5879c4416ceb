/* test_cli.c -- the lab programs' command lines: --help, usage errors
 * (exit 2, one line and a hint), runtime failures (exit 1).
 *
 * Part of the synack lab tests (ctest: lab_cli). */
#include "labtest.h"

#include <stdio.h>
#include <string.h>

#define TIMEOUT_MS 10000

static const char *const programs[] = {"synack-echo-server", "synack-echo-client",
                                       "synack-file-server", "synack-file-client"};

static void run(struct labtest_run *r, const char *prog, const char *const *args)
{
    labtest_run(r, prog, args, NULL, NULL, TIMEOUT_MS);
}

static void test_help(void **state)
{
    const char *args[] = {"--help", NULL};
    char want[64];
    struct labtest_run r;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        run(&r, programs[i], args);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.err, "");
        snprintf(want, sizeof want, "Usage: %s ", programs[i]);
        assert_memory_equal(r.out, want, strlen(want));
        assert_non_null(strstr(r.out, "Exit status: 0"));
    }
}

static void test_unknown_option(void **state)
{
    const char *args[] = {"--bogus", NULL};
    char want[128];
    struct labtest_run r;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        run(&r, programs[i], args);
        assert_int_equal(r.status, 2);
        assert_string_equal(r.out, "");
        snprintf(want, sizeof want, "Try '%s --help'.\n", programs[i]);
        assert_non_null(strstr(r.err, "unrecognized option '--bogus'"));
        assert_non_null(strstr(r.err, want));
    }
}

/* Each case: program, arguments, the exact first stderr line, exit code. */
static void test_usage_errors(void **state)
{
    static const struct {
        const char *prog;
        const char *args[6];
        const char *line;
    } cases[] = {
        {"synack-echo-server",
         {"--port", "70000"},
         "invalid --port '70000' (expected a number from 0 to 65535)"},
        {"synack-echo-server",
         {"--port", "12ab"},
         "invalid --port '12ab' (expected a number from 0 to 65535)"},
        {"synack-echo-server",
         {"--pause-ms", "-5"},
         "invalid --pause-ms '-5' (expected a number from 0 to 3600000)"},
        {"synack-echo-server", {"extra"}, "unexpected argument 'extra'"},
        {"synack-echo-client",
         {"--close", "slam"},
         "invalid --close 'slam' (expected fin, rst or half)"},
        {"synack-echo-client",
         {"--keepalive", "1,2"},
         "invalid --keepalive '1,2' (expected IDLE,INTVL,CNT: seconds 1-32767, seconds "
         "1-32767, probes 1-127)"},
        {"synack-echo-client",
         {"--size", "0"},
         "invalid --size '0' (expected a number from 1 to 268435456)"},
        {"synack-echo-client",
         {"--mss", "20"},
         "invalid --mss '20' (expected a number from 88 to 65535)"},
        {"synack-echo-client",
         {"--port", "0"},
         "invalid --port '0' (expected a number from 1 to 65535)"},
        {"synack-file-server", {"--port", "1"}, "missing --root DIR"},
        {"synack-file-client", {"--port", "1"}, "missing file NAME"},
        {"synack-file-client", {"a", "b"}, "one file NAME only ('b' is extra)"},
        {"synack-file-client", {"dir/"}, "cannot name the output after 'dir/'; use -o PATH"},
    };
    struct labtest_run r;
    char want[512];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&r, cases[i].prog, cases[i].args);
        assert_int_equal(r.status, 2);
        assert_string_equal(r.out, "");
        snprintf(want, sizeof want, "%s: %s\nTry '%s --help'.\n", cases[i].prog, cases[i].line,
                 cases[i].prog);
        assert_string_equal(r.err, want);
    }
}

static void test_runtime_failures(void **state)
{
    const char *sargs[] = {"--port", "0", "-q", NULL};
    const char *noroot[] = {"--root", "/nonexistent/synack", NULL};
    struct labtest_server srv;
    struct labtest_run r;
    char port[16], want[256];

    (void)state;
    run(&r, "synack-file-server", noroot);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.err, "synack-file-server: cannot open --root /nonexistent/synack: No "
                               "such file or directory\n");
    assert_string_equal(r.out, ""); /* no readiness line */

    /* The port is taken by a running server. */
    labtest_server_start(&srv, "synack-echo-server", sargs);
    snprintf(port, sizeof port, "%d", srv.port);
    const char *again[] = {"--port", port, "--bind", "127.0.0.1", NULL};
    run(&r, "synack-echo-server", again);
    assert_int_equal(r.status, 1);
    snprintf(want, sizeof want,
             "synack-echo-server: cannot listen on 127.0.0.1 port %s: bind: address already in "
             "use\n",
             port);
    assert_string_equal(r.err, want);
    assert_string_equal(r.out, "");
    labtest_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_help, labtest_teardown),
        cmocka_unit_test_teardown(test_unknown_option, labtest_teardown),
        cmocka_unit_test_teardown(test_usage_errors, labtest_teardown),
        cmocka_unit_test_teardown(test_runtime_failures, labtest_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
