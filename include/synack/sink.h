/* sink.h - consumers of packets, state events and connection records.
 *
 * Pipeline place: tcp tracker -> [sinks].  Sinks never reach back into the tracker:
 * everything arrives through these four calls, in pipeline order.  Each output format
 * (text lines, JSON, connection log, ...) is one implementation of struct sink_ops.
 */
#ifndef SYNACK_SINK_H
#define SYNACK_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/anomaly.h"
#include "synack/decode.h"
#include "synack/source.h"
#include "synack/tcp_tracker.h"

/* Everything counted over a run, for the end-of-run totals. */
struct run_totals {
    uint64_t packets;          /* frames read */
    uint64_t bytes;            /* wire bytes of those frames */
    uint64_t tcp, udp, icmp, other_ip, non_ip;
    uint64_t snap_truncated;   /* frames shorter in the capture than on the wire */
    uint64_t with_anomalies;   /* frames with at least one anomaly */
    uint64_t anomalies[ANOMALY_COUNT];
    uint64_t tcp_cksum_bad, tcp_cksum_unverified;
    bool interrupted;          /* live capture stopped by a signal */
    bool truncated_input;      /* the file ended in the middle of a record */
    struct tcp_tracker_stats trk;
    struct source_stats src;
};

struct sink;

struct sink_ops {
    void (*packet)(struct sink *s, const struct packet *p, const struct track_info *ti);
    void (*event)(struct sink *s, const struct tcp_event *e);
    void (*conn_end)(struct sink *s, const struct conn *c, enum conn_end_reason why);
    void (*finish)(struct sink *s, const struct run_totals *t);
    void (*destroy)(struct sink *s);
};

struct sink {
    const struct sink_ops *ops;
};

/* What each sink prints; set from the command line. */
enum sink_mode {
    SINK_PACKETS = 1,  /* packet lines / objects */
    SINK_EVENTS = 2,   /* state-transition lines (text: only with --events) */
    SINK_SUMMARY = 4,  /* connection table / conn objects */
    SINK_TOTALS = 8,   /* totals at the end */
};

struct sink_opts {
    unsigned mode;      /* SINK_* bits */
    int fd;             /* where to write */
    int time_mode;      /* enum time_mode (timefmt.h) */
    bool nano;          /* 9 fractional digits */
    bool absolute_seq;  /* -S */
    bool link_header;   /* -e */
    int verbose;        /* -v */
    bool ascii;         /* -A */
    bool hex;           /* -X */
    bool live;          /* flush after every packet */
    bool color;         /* ANSI colours (ladder; only on a terminal without NO_COLOR) */
    uint64_t conn;      /* --conn: only this connection (ladder), 0 = all */
    /* HTML/SVG report (sink_html.c) */
    const char *title;       /* shown as the report's source (the input file name) */
    const char *out_name;    /* name of fd's file, for error messages */
    const char *svg_dir;     /* also write DIR/conn-ID-{ladder,tseq,states}.svg; NULL none */
    uint32_t max_segments;   /* segments drawn per connection; 0 = 2000 */
    uint64_t max_page_segments; /* segments drawn in the whole page; 0 = 50000 */
    char *errbuf;            /* html/svg: the first write error is described here */
    size_t errlen;
};

struct sink *sink_text_new(const struct sink_opts *o);
struct sink *sink_json_new(const struct sink_opts *o);
/* ASCII ladder diagram, one per connection, printed at finish (sink_ladder.c). */
struct sink *sink_ladder_new(const struct sink_opts *o);
/* Connection log: a header line, then one tab-separated Zeek-like line per connection
 * as it ends (sink_conn.c, -o conn). */
struct sink *sink_conn_new(const struct sink_opts *o);
/* Self-contained HTML report written to o->fd at finish (fd < 0: none), and with
 * o->svg_dir standalone SVG files (sink_html.c).  Segments are kept in a temporary
 * file until then, so memory does not grow with the capture. */
struct sink *sink_html_new(const struct sink_opts *o);
/* `--follow ID`: connection o->conn's byte stream both ways, written to o->fd at finish
 * as `tshark -q -z follow,tcp,ascii` prints it (stream.c; payload kept in a temporary
 * file).  An unknown connection or an I/O error is described in o->errbuf. */
struct sink *sink_follow_new(const struct sink_opts *o);

#endif
