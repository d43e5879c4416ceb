/* main.c - synack's entry point: picks the subcommand.
 *
 * Pipeline place: command line -> subcommand -> pipeline.
 *   synack [capture options] [FILTER...]   read a file (-r) or capture live (-i)
 *   synack lab [SCENARIO...]                run the TCP lab in a namespace and watch it
 *   synack report -r FILE --html OUT        HTML/SVG report of a capture
 *   synack verify --server H:P | -r FILE     judge a server check by check
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "synack/tcp_tracker.h"

void cli_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* one line, whatever libpcap put in the message */
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fflush(stdout);
    fprintf(stderr, "synack: %s\n", msg);
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

char *cli_join_filter(int argc, char **argv)
{
    size_t n = 0;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    if (n == 0)
        return NULL;
    char *f = malloc(n);
    if (!f)
        return NULL;
    size_t k = 0;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (i)
            f[k++] = ' ';
        memcpy(f + k, argv[i], l);
        k += l;
    }
    f[k] = '\0';
    return f;
}

int cli_tracker_option(const char *name, const char *arg, struct tcp_tracker_opts *o)
{
    uint64_t v;
    if (strcmp(name, "--max-conns") == 0) {
        if (cli_parse_u64(arg, 1u << 26, &v) || v == 0) {
            cli_error("--max-conns: '%s' is not a count from 1 to %u", arg, 1u << 26);
            return EXIT_USAGE;
        }
        o->max_conns = (uint32_t)v;
        return 0;
    }
    if (cli_parse_u64(arg, 86400 * 365, &v) || v == 0) {
        cli_error("%s: '%s' is not a number of seconds", name, arg);
        return EXIT_USAGE;
    }
    if (strcmp(name, "--idle-timeout") == 0)
        o->idle_ns = (int64_t)v * 1000000000;
    else
        o->msl_ns = (int64_t)v * 1000000000;
    return 0;
}

int cli_lab_program_dir(char *out, size_t size)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if ((size_t)snprintf(out, size, "%s", self) >= size)
        return -1;
    char probe[4096 + 32];
    snprintf(probe, sizeof probe, "%s/synack-echo-server", self);
    return access(probe, X_OK) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "lab") == 0)
        return cmd_lab(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    return cmd_capture(argc, argv);
}
