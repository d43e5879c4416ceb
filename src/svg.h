/* svg.h - SVG drawings of one TCP connection: the ladder diagram, the time-sequence
 * graph (Stevens style) and the timeline of both endpoints' states.
 *
 * Pipeline place: used by the HTML report sink (sink_html.c) for its page and for
 * standalone --svg files.  Pure rendering: the caller hands in the connection record
 * and arrays of segment and state-change records; the text goes to a growing buffer.
 * Every piece of text that comes from the capture is escaped here.
 */
#ifndef SYNACK_SVG_H
#define SYNACK_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/tcp_tracker.h"

/* ---------------------------------------------------------------- text buffer */

/* A growing buffer.  Appends never fail: when memory runs out, oom is set and later
 * appends are dropped. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

void sbuf_put(struct sbuf *b, const void *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text for HTML/XML content or a quoted attribute: & < > " ' become entities, control
 * bytes and bytes that are not valid UTF-8 become '?'. */
void sbuf_esc(struct sbuf *b, const char *s, size_t n);
void sbuf_free(struct sbuf *b);

/* ---------------------------------------------------------------- records */

#define SVG_PREVIEW 16 /* payload bytes kept for the arrow label */
#define SVG_MAX_SACK 4

/* Analysis notes on a segment (struct track_info's flags). */
enum {
    SVG_N_RETRANS = 1 << 0,
    SVG_N_FAST_RETRANS = 1 << 1,
    SVG_N_OUT_OF_ORDER = 1 << 2,
    SVG_N_DUP_ACK = 1 << 3,
    SVG_N_KEEPALIVE = 1 << 4,
    SVG_N_WINDOW_PROBE = 1 << 5,
    SVG_N_ZERO_WINDOW = 1 << 6,
    SVG_N_ABOVE_MSS = 1 << 7,
};

/* One TCP segment as drawn.  Sequence numbers are relative to the sender's ISN, ack and
 * SACK edges to the receiver's (0 = ISN, data starts at 1), as in the ASCII ladder. */
struct svg_seg {
    uint64_t frame;
    int64_t ts_ns;
    uint32_t seq, ack, len; /* len: payload bytes on the wire */
    uint32_t win;           /* advertised window, scaled when scaling is in use */
    uint32_t sack[SVG_MAX_SACK][2];
    uint16_t raw_win;
    uint16_t mss;      /* MSS option on a SYN (0 none) */
    uint16_t opt_len;  /* TCP option bytes (doff - 20) */
    uint16_t peer_mss; /* MSS the receiver announced (0 unknown) */
    uint8_t dir;       /* enum role of the sender */
    uint8_t flags;     /* TCP_* */
    uint8_t notes;     /* SVG_N_* */
    uint8_t n_sack;
    uint8_t wscale;                 /* window scale option on a SYN (0xff none) */
    uint8_t seq_ok : 1, ack_ok : 1; /* sender's / receiver's ISN known: numbers mean something */
    uint8_t n_preview;              /* bytes in preview */
    uint8_t preview[SVG_PREVIEW];
};

/* One state change of one endpoint. */
struct svg_evt {
    uint64_t frame;
    int64_t ts_ns;
    uint8_t endpoint; /* enum role */
    uint8_t from, to; /* enum tcp_state */
};

/* What one drawing needs. */
struct svg_conn {
    const struct conn *c;      /* the final connection record */
    const struct svg_seg *seg; /* in frame order */
    size_t n_seg;
    const struct svg_evt *evt; /* in order */
    size_t n_evt;
    uint64_t dropped;      /* segments not drawn (per-connection limit) */
    uint32_t max_segments; /* the limit, for the note */
};

/* Each appends one complete <svg> element (with xmlns, no XML declaration). */
void svg_ladder(struct sbuf *b, const struct svg_conn *v);
void svg_tseq(struct sbuf *b, const struct svg_conn *v);
void svg_states(struct sbuf *b, const struct svg_conn *v);

/* Background colour of a state in every drawing ("#90caf9"). */
const char *svg_state_color(enum tcp_state s);

#endif
