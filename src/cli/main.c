/* main.c - synack's entry point: picks the subcommand.
 *
 * Pipeline place: command line -> subcommand -> pipeline.
 *   synack [capture options] [FILTER...]   read a file (-r) or capture live (-i)
 *   synack lab [SCENARIO...]                run the TCP lab in a namespace and watch it
 *   synack report -r FILE --html OUT        HTML/SVG report of a capture
 */
#include <stdarg.h>
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

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "lab") == 0)
        return cmd_lab(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    return cmd_capture(argc, argv);
}
