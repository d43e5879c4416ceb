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

#include "cli.h"

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
