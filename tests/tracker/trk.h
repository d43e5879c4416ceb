/* trk.h - test harness for the tcp tracker: a segment builder that fills struct packet
 * directly (no bytes), and a recorder of state events and connection records.
 *
 * A scenario reads like a ladder:
 *
 *     seg(h, C, "S", 1000, 0, 0);          frame 1: client SYN
 *     seg(h, S, "S.", 5000, 1001, 0);      frame 2: server SYN/ACK
 *     seg(h, C, ".", 1001, 5001, 0);       frame 3: client ACK
 *     EXPECT_EVENTS(h, 0, EV(1, C, CLOSED, SYN_SENT), ...);
 *
 * Flags are tcpdump letters: S SYN, F FIN, R RST, P PSH, '.' ACK, E ECE, W CWR, U URG.
 * Every packet gets the next frame number (from 1) and the harness clock, which then
 * advances by h->step.  Per-direction defaults (window, MSS/wscale on SYNs, option
 * bytes on other segments, addresses and ports) live in struct trk and can be changed
 * between segments.
 */
#ifndef SYNACK_TESTS_TRK_H
#define SYNACK_TESTS_TRK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/tcp_tracker.h"

enum { C = ROLE_CLIENT, S = ROLE_SERVER };

#define MS 1000000LL
#define SEC 1000000000LL
#define T0 (1700000000LL * SEC) /* harness clock start */

/* One state change as a sink would see it (timer events and packet events alike). */
struct rec_ev {
    uint64_t frame;
    int64_t ts_ns;
    uint64_t conn;
    int ep;
    enum tcp_state from, to;
};

#define TRK_MAX_EV 1024
#define TRK_MAX_END 64

struct trk {
    struct tcp_tracker *t;
    struct tcp_tracker_opts o;
    /* addressing of the next segments: [C] client, [S] server */
    int family; /* 4 or 6 */
    uint8_t addr[2][16];
    uint16_t port[2];
    /* per sending direction */
    uint16_t win[2];
    uint16_t mss[2];   /* MSS option on SYN segments, 0 = none */
    int8_t wscale[2];  /* window scale option on SYN segments, -1 = none */
    uint8_t optlen[2]; /* option bytes on non-SYN segments (12 = timestamps) */
    /* clock */
    uint64_t frame; /* frame number of the last packet fed */
    int64_t now;    /* timestamp of the next packet */
    int64_t step;   /* added to now after each packet */
    /* the last packet fed and what the tracker said about it */
    struct packet p;
    struct track_info ti;
    /* recorded output */
    size_t n_ev;
    struct rec_ev ev[TRK_MAX_EV];
    size_t n_end;
    struct conn ends[TRK_MAX_END];
    enum conn_end_reason why[TRK_MAX_END];
    size_t n_cb_ev; /* events that came through the callback (timers, overflow) */
};

/* Set up h with default options (or *o) and a fresh tracker. */
void trk_open(struct trk *h, const struct tcp_tracker_opts *o);
void trk_close(struct trk *h);

/* Build a TCP segment from dir into h->p (not fed yet); returns h->p for tweaks. */
struct packet *mk(struct trk *h, int dir, const char *flags, uint32_t seq, uint32_t ack,
                  uint32_t len);
/* Feed h->p to the tracker with the next frame number and the clock; returns the frame. */
uint64_t feed(struct trk *h);
/* mk + feed. */
uint64_t seg(struct trk *h, int dir, const char *flags, uint32_t seq, uint32_t ack, uint32_t len);
/* Feed a non-TCP packet (UDP) at the clock: only timers advance. */
uint64_t other(struct trk *h);
/* tcp_tracker_finish. */
void trk_finish(struct trk *h);

/* Standard handshake on the current 4-tuple: client ISN ci, server ISN si. */
void handshake(struct trk *h, uint32_t ci, uint32_t si);

/* The connection of the last packet (valid until the next feed). */
const struct conn *cur(const struct trk *h);
/* The record of connection id handed to conn_end, or NULL. */
const struct conn *ended(const struct trk *h, uint64_t id);
enum conn_end_reason ended_why(const struct trk *h, uint64_t id);

/* Does the last packet carry this anomaly? */
bool has_anomaly(const struct trk *h, enum anomaly a);

/* ---- assertions ---- */

struct xev {
    uint64_t frame;
    int ep;
    enum tcp_state from, to;
};
#define EV(frame, ep, from, to) {(frame), (ep), TCPS_##from, TCPS_##to}

/* The events of connection conn (0: all), in order, must be exactly want[0..n). */
void check_events(const struct trk *h, uint64_t conn, const struct xev *want, size_t n,
                  const char *file, int line);
#define EXPECT_EVENTS(h, conn, ...)                                                                \
    do {                                                                                           \
        static const struct xev want_[] = {__VA_ARGS__};                                           \
        check_events((h), (conn), want_, sizeof want_ / sizeof want_[0], __FILE__, __LINE__);     \
    } while (0)
#define EXPECT_NO_EVENTS(h, conn) check_events((h), (conn), NULL, 0, __FILE__, __LINE__)

/* Both endpoint states of a connection. */
void check_states(const struct conn *c, enum tcp_state cs, enum tcp_state ss, const char *file,
                  int line);
#define EXPECT_STATES(c, cs, ss) check_states((c), TCPS_##cs, TCPS_##ss, __FILE__, __LINE__)

/* Zeek view: history string and conn_state. */
void check_zeek(const struct conn *c, const char *history, const char *state, const char *file,
                int line);
#define EXPECT_ZEEK(c, hist, st) check_zeek((c), (hist), (st), __FILE__, __LINE__)

#endif
