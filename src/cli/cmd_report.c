/* cmd_report.c - `synack report -r FILE --html OUT [--svg DIR] [FILTER...]`: read a
 * capture and write a self-contained HTML report (connection table, per-connection
 * ladder diagram, time-sequence graph and state timeline) and/or standalone SVGs.
 *
 * Pipeline place: options -> source -> decode -> tracker -> html sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "synack/pipeline.h"

struct report_opts {
    const char *file;
    const char *html;
    const char *svg_dir;
    uint32_t max_segments;
    uint64_t max_page_segments;
    uint64_t conn;
    struct tcp_tracker_opts trk;
    char *filter;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: synack report -r FILE [--html OUT.html] [--svg DIR] [options] [FILTER...]\n"
               "\n"
               "Write a report of every TCP connection in FILE: one self-contained HTML page\n"
               "(no network needed to view it) with a sortable connection table and, per\n"
               "connection, a ladder diagram, a time-sequence graph and the endpoints' states\n"
               "over time; and/or the same drawings as SVG files DIR/conn-ID-ladder.svg,\n"
               "DIR/conn-ID-tseq.svg and DIR/conn-ID-states.svg.  FILTER is a BPF expression.\n"
               "\n"
               "  -r FILE            pcap or pcapng file to read (- reads standard input)\n"
               "  --html OUT         write the HTML report to OUT (- for standard output)\n"
               "  --svg DIR          write standalone SVG files into DIR (created if missing)\n"
               "  --max-segments N   segments drawn per connection (default 2000); the rest\n"
               "                     are counted and the drawings say so\n"
               "  --max-page-segments N  segments drawn in the whole page (default 50000);\n"
               "                     later connections are listed but not drawn (--conn ID\n"
               "                     draws one), so that the page of a large capture opens fast\n"
               "  --conn ID          only connection ID\n"
               "  --idle-timeout S   seconds before an idle connection ends (default 300)\n"
               "  --msl S            maximum segment lifetime; TIME_WAIT lasts 2*MSL (default 30)\n"
               "\n"
               "Exit status: 0 success, 2 usage or input error.\n");
}

enum { OPT_HTML = 1000, OPT_SVG, OPT_MAX_SEG, OPT_MAX_PAGE, OPT_CONN, OPT_IDLE, OPT_MSL };

static const struct option long_opts[] = {
    {"html", required_argument, NULL, OPT_HTML},
    {"svg", required_argument, NULL, OPT_SVG},
    {"max-segments", required_argument, NULL, OPT_MAX_SEG},
    {"max-page-segments", required_argument, NULL, OPT_MAX_PAGE},
    {"conn", required_argument, NULL, OPT_CONN},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"msl", required_argument, NULL, OPT_MSL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Returns 0 when parsed, EXIT_USAGE on a bad option, -1 when help was printed. */
static int parse_options(int argc, char **argv, struct report_opts *o)
{
    memset(o, 0, sizeof *o);
    tcp_tracker_default_opts(&o->trk);
    int c;
    uint64_t v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->file = optarg;
            break;
        case OPT_HTML:
            o->html = optarg;
            break;
        case OPT_SVG:
            o->svg_dir = optarg;
            break;
        case OPT_MAX_SEG:
            if (cli_parse_u64(optarg, 10000000, &v) || v == 0) {
                cli_error("--max-segments: '%s' is not a count from 1 to 10000000", optarg);
                return EXIT_USAGE;
            }
            o->max_segments = (uint32_t)v;
            break;
        case OPT_MAX_PAGE:
            if (cli_parse_u64(optarg, UINT64_MAX, &v) || v == 0) {
                cli_error("--max-page-segments: '%s' is not a positive count", optarg);
                return EXIT_USAGE;
            }
            o->max_page_segments = v;
            break;
        case OPT_CONN:
            if (cli_parse_u64(optarg, UINT64_MAX, &v) || v == 0) {
                cli_error("--conn: '%s' is not a connection id", optarg);
                return EXIT_USAGE;
            }
            o->conn = v;
            break;
        case OPT_IDLE:
        case OPT_MSL:
            if (cli_tracker_option(c == OPT_IDLE ? "--idle-timeout" : "--msl", optarg, &o->trk))
                return EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case ':':
            cli_error("report: option %s needs an argument (synack report --help)",
                      argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (optopt)
                cli_error("report: unknown option -%c (synack report --help)", optopt);
            else
                cli_error("report: unknown option %s (synack report --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (!o->file) {
        cli_error("report: -r FILE is required (synack report --help)");
        return EXIT_USAGE;
    }
    if (!o->html && !o->svg_dir) {
        cli_error("report: nothing to write: give --html FILE and/or --svg DIR");
        return EXIT_USAGE;
    }
    o->filter = cli_join_filter(argc - optind, argv + optind);
    return 0;
}

/* DIR exists as a directory, or is created. */
static int make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    cli_error("--svg %s: %s", dir,
              errno == EEXIST ? "exists and is not a directory" : strerror(errno));
    return -1;
}

int cmd_report(int argc, char **argv)
{
    struct report_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    const char *input = strcmp(o.file, "-") ? o.file : "(stdin)";
    struct source_opts so;
    memset(&so, 0, sizeof so);
    so.file = o.file;
    char err[SOURCE_ERRLEN];
    struct source *src = source_open(&so, err, sizeof err);
    if (!src) {
        cli_error("%s", err);
        free(o.filter);
        return EXIT_USAGE;
    }
    int fd = -1;
    rc = EXIT_USAGE;
    int dlt = source_datalink(src);
    if (!decode_dlt_supported(dlt)) {
        const char *n = pcap_datalink_val_to_name(dlt);
        cli_error("%s: unsupported link type %s (%d)", input, n ? n : "unknown", dlt);
        goto out;
    }
    if (o.filter && source_set_filter(src, o.filter, err, sizeof err) < 0) {
        cli_error("%s", err);
        goto out;
    }
    if (o.svg_dir && make_dir(o.svg_dir) < 0)
        goto out;
    if (o.html) {
        fd = strcmp(o.html, "-") ? open(o.html, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                                 : STDOUT_FILENO;
        if (fd < 0) {
            cli_error("--html %s: %s", o.html, strerror(errno));
            goto out;
        }
    }

    struct pipeline pl;
    if (pipeline_init(&pl, src, &o.trk, err, sizeof err) < 0) {
        cli_error("%s", err);
        goto out;
    }
    char sink_err[512] = "";
    char out_name[4200];
    snprintf(out_name, sizeof out_name, "--html %s", o.html ? o.html : "-");
    struct sink_opts sk;
    memset(&sk, 0, sizeof sk);
    sk.fd = fd;
    sk.conn = o.conn;
    sk.title = input;
    sk.out_name = out_name;
    sk.svg_dir = o.svg_dir;
    sk.max_segments = o.max_segments;
    sk.max_page_segments = o.max_page_segments;
    sk.errbuf = sink_err;
    sk.errlen = sizeof sink_err;
    struct sink *html = sink_html_new(&sk);
    if (!html) {
        cli_error("report: out of memory");
        pipeline_finish(&pl);
        goto out;
    }
    pipeline_add_sink(&pl, html);
    int run = pipeline_run(&pl, err, sizeof err);
    uint64_t read = pl.totals.packets;
    pipeline_finish(&pl);
    uint64_t conns = pl.totals.trk.conns;
    if (fd >= 0 && fd != STDOUT_FILENO) {
        int c = close(fd);
        fd = -1;
        if (c != 0 && !sink_err[0])
            snprintf(sink_err, sizeof sink_err, "--html %s: %s", o.html, strerror(errno));
    }
    if (run < 0) {
        cli_error("%s (after %llu packets)", err, (unsigned long long)read);
        goto out;
    }
    if (sink_err[0]) {
        cli_error("%s", sink_err);
        goto out;
    }
    if (o.html && strcmp(o.html, "-") != 0)
        printf("wrote %s: %llu connection%s, %llu packets\n", o.html, (unsigned long long)conns,
               conns == 1 ? "" : "s", (unsigned long long)read);
    if (o.svg_dir && (!o.html || strcmp(o.html, "-") != 0))
        printf("wrote SVG files to %s/\n", o.svg_dir);
    rc = EXIT_OK;
out:
    if (fd >= 0 && fd != STDOUT_FILENO)
        close(fd);
    source_close(src);
    free(o.filter);
    return rc;
}
