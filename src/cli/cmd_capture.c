/* cmd_capture.c - `synack [options] [FILTER...]`: read a capture file or a live
 * interface and print packets, state changes, connections and totals.
 *
 * Pipeline place: options -> source -> decode -> tracker -> sinks.  Options follow
 * tcpdump's habits (-i -r -w -c -s -B -n -S -Z -t... -e -v -A -X -U, trailing filter).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "synack/pipeline.h"
#include "timefmt.h"

struct capture_opts {
    struct source_opts src;
    const char *write_file;
    bool write_flush;
    uint64_t count;
    const char *drop_user;
    enum { OUT_TEXT, OUT_JSON, OUT_CONN } format;
    unsigned mode;      /* SINK_* bits; 0 = the format's default */
    struct sink_opts sink;
    int t_count;
    bool ladder;        /* --ladder: diagrams instead of packet lines */
    uint64_t follow;    /* --follow ID: that connection's byte stream, 0 = none */
    struct tcp_tracker_opts trk;
    char *filter;
};

static struct source *g_src; /* for the signal handler only */

static void on_signal(int sig)
{
    (void)sig;
    if (g_src)
        source_break(g_src); /* only pcap_breakloop: nothing else is safe here */
}

/* Install handlers without SA_RESTART: a restarted read would block until the next
 * packet (pcap_breakloop(3PCAP)). */
static void set_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error we count, not a death */
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synack [-r FILE | -i IFACE] [options] [FILTER...]\n"
            "       synack -D\n"
            "\n"
            "Read a capture (-r FILE, - for stdin) or capture live (-i IFACE) and show each\n"
            "TCP packet, the state of both endpoints of every connection, and a verdict per\n"
            "connection.  FILTER is a BPF expression, as in tcpdump.\n"
            "\n"
            "Source:\n"
            "  -r FILE        read a pcap or pcapng file (- reads standard input)\n"
            "  -i IFACE       capture live on IFACE (default: lo when the filter names\n"
            "                 127.0.0.0/8 or ::1)\n"
            "  -D             list capture interfaces\n"
            "  -c COUNT       stop after COUNT packets\n"
            "  -s SNAPLEN     bytes to capture per packet (default 262144)\n"
            "  -B KIB         kernel capture buffer size in KiB (default 32768)\n"
            "  -p             no promiscuous mode (the default)\n"
            "  --promisc      promiscuous mode\n"
            "  -w FILE        also write the packets read to FILE (pcap)\n"
            "  -U             flush FILE after every packet\n"
            "  -Z USER        drop privileges to USER once the capture is open (live\n"
            "                 capture as root drops to nobody by default; -Z root keeps root)\n"
            "Output:\n"
            "  -o FORMAT      text (default), json (NDJSON) or conn (a tab-separated line\n"
            "                 per connection, Zeek's conn.log columns and synack's)\n"
            "  --events       only the state-transition log\n"
            "  --summary      only the connection table (json: only conn objects)\n"
            "  -q             only the totals\n"
            "  -t -tt -ttt -tttt -ttttt   timestamps as in tcpdump (none, epoch, delta,\n"
            "                 date, since first)\n"
            "  --nano         nanosecond timestamps in text\n"
            "  -n             numeric addresses and ports (always; accepted for tcpdump habit)\n"
            "  -S             absolute sequence numbers\n"
            "  -e             print the link-level header\n"
            "  -v             IP fields, checksum state and frame length\n"
            "  -A             TCP payload as text\n"
            "  -X             TCP payload as hex and text\n"
            "  --ladder       a ladder diagram per connection instead of packet lines\n"
            "  --conn ID      only connection ID in the ladder\n"
            "  --follow ID    only connection ID's byte stream both ways, reassembled, as\n"
            "                 tshark -z follow,tcp,ascii prints it (first 64 MiB each way)\n"
            "Tracking:\n"
            "  --max-conns N  connections tracked at once (default 262144); the oldest\n"
            "                 half-open, then least recently active, are evicted\n"
            "  --idle-timeout S   seconds before an idle connection ends (default 300)\n"
            "  --msl S        maximum segment lifetime; TIME_WAIT lasts 2*MSL (default 30)\n"
            "\n"
            "Exit status: 0 success, 2 usage or input error.\n");
}

enum {
    OPT_EVENTS = 1000,
    OPT_SUMMARY,
    OPT_MAX_CONNS,
    OPT_IDLE,
    OPT_MSL,
    OPT_PROMISC,
    OPT_NANO,
    OPT_VERSION,
    OPT_LADDER,
    OPT_CONN,
    OPT_FOLLOW,
};

static const struct option long_opts[] = {
    {"events", no_argument, NULL, OPT_EVENTS},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"msl", required_argument, NULL, OPT_MSL},
    {"promisc", no_argument, NULL, OPT_PROMISC},
    {"nano", no_argument, NULL, OPT_NANO},
    {"ladder", no_argument, NULL, OPT_LADDER},
    {"conn", required_argument, NULL, OPT_CONN},
    {"follow", required_argument, NULL, OPT_FOLLOW},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Returns 0 when parsed, EXIT_USAGE on a bad option, -1 when help was printed. */
static int parse_options(int argc, char **argv, struct capture_opts *o)
{
    memset(o, 0, sizeof *o);
    tcp_tracker_default_opts(&o->trk);
    int c;
    uint64_t v;
    opterr = 0; /* our own one-line messages, named "synack:" */
    while ((c = getopt_long(argc, argv, ":r:i:w:Uc:s:B:nSZ:teo:vqAXhDp", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->src.file = optarg; break;
        case 'i': o->src.iface = optarg; break;
        case 'w': o->write_file = optarg; break;
        case 'U': o->write_flush = true; break;
        case 'c':
            if (cli_parse_u64(optarg, UINT64_MAX, &v) || v == 0) {
                cli_error("-c: '%s' is not a positive packet count", optarg);
                return EXIT_USAGE;
            }
            o->count = v;
            break;
        case 's':
            if (cli_parse_u64(optarg, 262144, &v)) {
                cli_error("-s: '%s' is not a snapshot length from 0 to 262144", optarg);
                return EXIT_USAGE;
            }
            o->src.snaplen = (int)v;
            break;
        case 'B':
            if (cli_parse_u64(optarg, 4u << 20, &v) || v == 0) {
                cli_error("-B: '%s' is not a buffer size in KiB", optarg);
                return EXIT_USAGE;
            }
            o->src.buffer_kib = (int)v;
            break;
        case 'n': break; /* numeric always: synack never looks names up */
        case 'S': o->sink.absolute_seq = true; break;
        case 'Z': o->drop_user = optarg; break;
        case 't': o->t_count++; break;
        case 'e': o->sink.link_header = true; break;
        case 'v': o->sink.verbose++; break;
        case 'q': o->mode = SINK_TOTALS; break;
        case 'A': o->sink.ascii = true; break;
        case 'X': o->sink.hex = true; break;
        case 'p': o->src.promisc = false; break;
        case 'o':
            if (strcmp(optarg, "text") == 0)
                o->format = OUT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->format = OUT_JSON;
            else if (strcmp(optarg, "conn") == 0)
                o->format = OUT_CONN;
            else {
                cli_error("-o: unknown output format '%s' (text, json, conn)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'D': {
            char err[SOURCE_ERRLEN];
            if (source_list_interfaces(err, sizeof err) < 0) {
                cli_error("%s", err);
                return EXIT_USAGE;
            }
            return -1;
        }
        case OPT_EVENTS: o->mode = SINK_EVENTS; break;
        case OPT_SUMMARY: o->mode = SINK_SUMMARY; break;
        case OPT_PROMISC: o->src.promisc = true; break;
        case OPT_NANO: o->sink.nano = true; break;
        case OPT_LADDER: o->ladder = true; break;
        case OPT_CONN:
            if (cli_parse_u64(optarg, UINT64_MAX, &v) || v == 0) {
                cli_error("--conn: '%s' is not a connection id", optarg);
                return EXIT_USAGE;
            }
            o->sink.conn = v;
            break;
        case OPT_FOLLOW:
            if (cli_parse_u64(optarg, UINT64_MAX, &v) || v == 0) {
                cli_error("--follow: '%s' is not a connection id", optarg);
                return EXIT_USAGE;
            }
            o->follow = v;
            break;
        case OPT_MAX_CONNS:
            if (cli_tracker_option("--max-conns", optarg, &o->trk))
                return EXIT_USAGE;
            break;
        case OPT_IDLE:
        case OPT_MSL:
            if (cli_tracker_option(c == OPT_IDLE ? "--idle-timeout" : "--msl", optarg, &o->trk))
                return EXIT_USAGE;
            break;
        case OPT_VERSION: printf("synack 0.1.0 (%s)\n", pcap_lib_version()); return -1;
        case 'h': usage(stdout); return -1;
        case ':':
            cli_error("option %s needs an argument (synack --help)", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (optopt)
                cli_error("unknown option -%c (synack --help)", optopt);
            else
                cli_error("unknown option %s (synack --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (o->t_count > 5) {
        cli_error("-t: at most five (-ttttt)");
        return EXIT_USAGE;
    }
    if (o->src.file && o->src.iface) {
        cli_error("-r and -i: choose one source");
        return EXIT_USAGE;
    }
    if (o->follow && (o->ladder || o->format != OUT_TEXT || o->mode)) {
        cli_error("--follow prints only the byte stream: it does not combine with --ladder, "
                  "-o json/conn, --events, --summary or -q");
        return EXIT_USAGE;
    }
    o->filter = cli_join_filter(argc - optind, argv + optind);
    return 0;
}

/* With no -i and no -r: lo when the filter names a loopback address, as a tcpdump user
 * watching a local server needs; otherwise libpcap's first interface. */
static const char *default_iface(const char *filter)
{
    static char first[256];
    if (filter && (strstr(filter, "127.") || strstr(filter, "::1") || strstr(filter, "localhost")))
        return "lo";
    pcap_if_t *all = NULL;
    char perr[PCAP_ERRBUF_SIZE];
    if (pcap_findalldevs(&all, perr) < 0 || !all)
        return "lo";
    snprintf(first, sizeof first, "%s", all->name);
    pcap_freealldevs(all);
    return first;
}

/* tcpdump's droproot(): initgroups, setgid, setuid, in that order; any failure fatal. */
static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        cli_error("-Z: no such user '%s'", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        cli_error("-Z: cannot become user '%s': %s", user, strerror(errno));
        return -1;
    }
    return 0;
}

static unsigned default_mode(const struct capture_opts *o)
{
    if (o->mode)
        return o->mode;
    if (o->ladder && o->format == OUT_TEXT)
        return SINK_SUMMARY | SINK_TOTALS;
    return o->format == OUT_JSON ? SINK_PACKETS | SINK_EVENTS | SINK_SUMMARY | SINK_TOTALS
                                 : SINK_PACKETS | SINK_SUMMARY | SINK_TOTALS;
}

int cmd_capture(int argc, char **argv)
{
    struct capture_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (!o.src.file && !o.src.iface)
        o.src.iface = default_iface(o.filter);
    o.src.immediate = true;
    char err[SOURCE_ERRLEN];
    struct source *src = source_open(&o.src, err, sizeof err);
    if (!src) {
        cli_error("%s", err);
        free(o.filter);
        return EXIT_USAGE;
    }
    int dlt = source_datalink(src);
    if (!decode_dlt_supported(dlt)) {
        const char *n = pcap_datalink_val_to_name(dlt);
        cli_error("%s: unsupported link type %s (%d); synack decodes EN10MB, LINUX_SLL, "
                  "LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6",
                  o.src.file ? (strcmp(o.src.file, "-") ? o.src.file : "(stdin)") : o.src.iface,
                  n ? n : "unknown", dlt);
        source_close(src);
        free(o.filter);
        return EXIT_USAGE;
    }
    if (o.filter && source_set_filter(src, o.filter, err, sizeof err) < 0) {
        cli_error("%s", err);
        source_close(src);
        free(o.filter);
        return EXIT_USAGE;
    }
    if (o.write_file && source_dump_open(src, o.write_file, o.write_flush, err, sizeof err) < 0) {
        cli_error("-w %s", err);
        source_close(src);
        free(o.filter);
        return EXIT_USAGE;
    }
    /* Live capture as root: drop to nobody once the capture and the output files are
     * open, before the first packet is parsed (-Z root keeps root). */
    if (o.src.iface && !o.drop_user && geteuid() == 0)
        o.drop_user = "nobody";
    if (o.drop_user && strcmp(o.drop_user, "root") == 0)
        o.drop_user = NULL;
    if (o.drop_user && drop_privileges(o.drop_user) < 0) {
        source_close(src);
        free(o.filter);
        return EXIT_USAGE;
    }

    struct pipeline pl;
    if (pipeline_init(&pl, src, &o.trk, err, sizeof err) < 0) {
        cli_error("%s", err);
        source_close(src);
        free(o.filter);
        return EXIT_USAGE;
    }
    pl.max_packets = o.count;
    o.sink.mode = default_mode(&o);
    /* Checksums cost a pass over every payload byte; as in tcpdump they are verified
     * only where they are shown: -v lines and JSON packets (the tracker never uses
     * them: Zeek's -C semantics) */
    if (!((o.sink.mode & SINK_PACKETS) && (o.sink.verbose || o.format == OUT_JSON)))
        pl.decode_flags |= DECODE_NO_CHECKSUMS;
    o.sink.fd = STDOUT_FILENO;
    o.sink.time_mode = o.t_count; /* enum time_mode follows tcpdump's -t count */
    o.sink.live = o.src.iface != NULL;
    o.sink.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    char follow_err[256] = "";
    if (o.follow) {
        o.sink.conn = o.follow;
        o.sink.errbuf = follow_err;
        o.sink.errlen = sizeof follow_err;
        pipeline_add_sink(&pl, sink_follow_new(&o.sink));
    } else {
        if (o.ladder)
            pipeline_add_sink(&pl, sink_ladder_new(&o.sink));
        pipeline_add_sink(&pl, o.format == OUT_JSON   ? sink_json_new(&o.sink)
                               : o.format == OUT_CONN ? sink_conn_new(&o.sink)
                                                      : sink_text_new(&o.sink));
    }

    if (o.src.iface) { /* as tcpdump does: the capture is running from here on */
        const char *dn = pcap_datalink_val_to_name(dlt);
        fprintf(stderr, "synack: listening on %s, link-type %s, snapshot length %d bytes\n",
                o.src.iface, dn ? dn : "?", o.src.snaplen > 0 ? o.src.snaplen : 262144);
    }
    g_src = src;
    set_signals();
    rc = pipeline_run(&pl, err, sizeof err);
    uint64_t read = pl.totals.packets;
    pipeline_finish(&pl);
    g_src = NULL;
    source_close(src);
    free(o.filter);
    if (rc < 0) {
        cli_error("%s (after %llu packets)", err, (unsigned long long)read);
        return EXIT_USAGE;
    }
    if (follow_err[0]) {
        cli_error("%s", follow_err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}
