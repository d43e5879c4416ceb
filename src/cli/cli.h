/* cli.h - the synack command line: shared exit codes and subcommand entry points.
 *
 * Pipeline place: src/cli turns options into a pipeline (source -> ... -> sinks).
 */
#ifndef SYNACK_CLI_H
#define SYNACK_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes, for every subcommand (README "Exit codes"). */
#define EXIT_OK 0
#define EXIT_CHECK_FAILED 1 /* a verification check or a lab scenario failed */
#define EXIT_USAGE 2        /* usage or input error, with a one-line reason on stderr */
#define EXIT_INCONCLUSIVE 3 /* verification inconclusive, nothing failed */

/* synack [options] [FILTER...]: read a file or capture live. */
int cmd_capture(int argc, char **argv);

/* synack lab [SCENARIO...]: run the TCP lab in a private namespace and watch it. */
int cmd_lab(int argc, char **argv);

/* synack report -r FILE --html OUT [--svg DIR]: HTML/SVG report of a capture. */
int cmd_report(int argc, char **argv);

/* synack verify --server HOST:PORT [--start CMD] | -r FILE: judge a server, check by
 * check (cmd_verify.c). */
int cmd_verify(int argc, char **argv);

/* Parse a decimal number from 0 to max (no sign, no junk).  Returns 0, or -1. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* The trailing command-line words joined with spaces, as tcpdump takes a filter;
 * NULL when there are none (or memory is short).  The caller frees it. */
char *cli_join_filter(int argc, char **argv);

struct tcp_tracker_opts;
/* A tracking option shared by the subcommands that read packets: name is
 * "--max-conns", "--idle-timeout" or "--msl".  Sets it in *o, or prints a one-line
 * error naming the option; returns 0 or EXIT_USAGE. */
int cli_tracker_option(const char *name, const char *arg, struct tcp_tracker_opts *o);

/* The directory of the running synack, where the lab programs are installed beside
 * it (build/ or PREFIX/bin).  Returns 0 when synack-echo-server is there, else -1. */
int cli_lab_program_dir(char *out, size_t size);

/* Print "synack: <message>" on stderr (one line). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
