/* tcp_tracker.h - per-connection TCP state of both endpoints, as an observer infers it.
 *
 * Pipeline place: flow table -> [tcp tracker] -> sinks.
 * For each decoded TCP segment the tracker finds its connection (creating, reusing or
 * evicting through the flow table), runs the state machine of both endpoints (RFC 9293
 * names, driven by sequence and acknowledgment numbers), keeps the connection record
 * (roles, handshake, options, counters, close, Zeek history and conn_state) and reports
 * what happened through callbacks: one per state change, one per connection that ends.
 * Sinks never reach into the tracker: they get struct tcp_event, struct track_info
 * (per packet) and const struct conn (at the end of a connection).
 */
#ifndef SYNACK_TCP_TRACKER_H
#define SYNACK_TCP_TRACKER_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/decode.h"
#include "synack/flow_table.h"

/* RFC 9293 states, plus UNKNOWN for an endpoint from which nothing has been seen. */
#define TCP_STATES(X)                                                                              \
    X(UNKNOWN)                                                                                     \
    X(CLOSED)                                                                                      \
    X(LISTEN)                                                                                      \
    X(SYN_SENT)                                                                                    \
    X(SYN_RECEIVED)                                                                                \
    X(ESTABLISHED)                                                                                 \
    X(FIN_WAIT_1)                                                                                  \
    X(FIN_WAIT_2)                                                                                  \
    X(CLOSE_WAIT)                                                                                  \
    X(CLOSING)                                                                                     \
    X(LAST_ACK)                                                                                    \
    X(TIME_WAIT)

enum tcp_state {
#define TCP_STATE_ENUM(s) TCPS_##s,
    TCP_STATES(TCP_STATE_ENUM)
#undef TCP_STATE_ENUM
        TCPS_COUNT
};

/* "ESTABLISHED", ... */
const char *tcp_state_name(enum tcp_state s);

/* Zeek's endpoint states (TCP_Endpoint.h), kept beside the RFC states for conn_state. */
enum zeek_state {
    ZS_INACTIVE = 0,
    ZS_SYN_SENT,
    ZS_SYN_ACK_SENT,
    ZS_PARTIAL,
    ZS_ESTABLISHED,
    ZS_CLOSED,
    ZS_RESET
};

enum role { ROLE_CLIENT = 0, ROLE_SERVER = 1 };

enum handshake_kind {
    HS_NOT_SEEN = 0, /* no SYN seen */
    HS_NO_REPLY,     /* SYN(s), nothing back */
    HS_PARTIAL,      /* some of the three segments seen */
    HS_COMPLETE,
    HS_REFUSED,      /* SYN answered by RST */
    HS_SIMULTANEOUS  /* SYN crossed SYN */
};

enum close_kind {
    CLOSE_NONE = 0, /* still open at the end */
    CLOSE_FIN,      /* FIN both ways, no data after the first */
    CLOSE_HALF,     /* data flowed toward the first FIN's sender after it */
    CLOSE_SIMULTANEOUS,
    CLOSE_RST_CLIENT,
    CLOSE_RST_SERVER,
};

/* Why a connection record was handed to the sinks. */
enum conn_end_reason {
    CONN_END_CLOSED,  /* both sides CLOSED, or TIME_WAIT expired */
    CONN_END_IDLE,    /* idle timeout */
    CONN_END_EVICTED, /* table full */
    CONN_END_REUSED,  /* a new SYN on the same 4-tuple */
    CONN_END_INPUT,   /* end of input (or interrupted live capture) */
};

#define CONN_HISTORY_MAX 31

/* One endpoint of a connection as the observer saw it.  The fields every segment reads
 * come first (the tracker's common-segment path touches only those): with the record's
 * own hot fields they share the first cache lines of the record. */
struct tcp_endpoint {
    /* hot: read or written for every segment */
    uint8_t state;        /* enum tcp_state */
    uint8_t zstate;       /* enum zeek_state */
    uint8_t zprev;        /* zeek state before the current one */
    uint8_t wscale;       /* announced on its SYN (valid if has_wscale) */
    uint8_t seen : 1, syn_seen : 1, fin_seen : 1, rst_seen : 1, has_mss : 1, has_wscale : 1,
        sack_perm : 1, has_ts : 1;
    uint8_t ack_seen : 1, data_seen : 1, ecn_syn : 1, hole : 1, tfo_data : 1, isn_known : 1,
        fin_acked : 1;
    uint16_t mss;         /* announced on its SYN */
    uint16_t last_win;    /* last raw window field */
    uint32_t isn;         /* its SYN's sequence number (or first seq seen, mid-stream) */
    uint32_t last_ack;    /* highest ack it sent */
    uint32_t dup_ack_count;    /* consecutive duplicate ACKs it sent */
    uint32_t packets;
    uint32_t max_payload;
    int64_t max_end;      /* highest seq+len(+SYN/FIN) it sent, unwrapped, relative to isn */
    int64_t acked;        /* highest ack of this endpoint's data by the peer, same scale */
    /* the rest: the close, the analysis counters, the address */
    int64_t hole_lo, hole_hi; /* one unfilled gap in its sequence space, same scale */
    uint64_t bytes_missed;
    uint32_t fin_seq;     /* sequence number of its FIN */
    uint32_t retransmits;
    uint32_t fast_retransmits;
    uint32_t out_of_order;
    uint32_t dup_acks;
    uint32_t zero_windows;
    uint32_t keepalives;
    uint32_t window_probes;
    uint32_t above_mss;   /* segments whose payload + options exceed the peer's MSS */
    uint32_t data_after_peer_fin; /* payload bytes sent after it received the peer's FIN */
    uint8_t addr[16];
    uint16_t port;
};

/* Zeek's counted history letters (conn.hist_cnt): appended at 1, 10, 100, ... events. */
enum { ZEEK_CNT_T = 0, ZEEK_CNT_W = 1, ZEEK_CNT_G = 2, ZEEK_CNT_COUNT = 3 };

/* The connection record: fixed size, lives in the tracker's pool.  Hot fields first
 * (see struct tcp_endpoint). */
struct conn {
    /* hot */
    int64_t last_ns;
    uint64_t last_frame;
    uint32_t seqbase[2];               /* [role] tcpdump-style relative numbering bases */
    uint32_t hist_mask;                /* Zeek's once-per-direction letters seen */
    uint8_t client_key;                /* which flow-key endpoint (0/1) is the client */
    uint8_t midstream : 1, reused : 1, ended : 1, flipped : 1, simultaneous_open : 1,
        history_full : 1, pending_flip : 1, seqbase_set : 1;
    uint8_t hs_bits;                   /* handshake segments seen (tcp_tracker.c HS_*) */
    uint8_t hist_len;
    struct tcp_endpoint ep[2];         /* [ROLE_CLIENT], [ROLE_SERVER] */
    /* the rest */
    uint64_t id;            /* from 1, in order of first packet */
    int64_t first_ns;
    int64_t syn_ns, synack_ns, ack_ns; /* handshake times (0 = not seen) */
    uint64_t first_frame;
    uint8_t family;                    /* 4 or 6 */
    uint8_t handshake;                 /* enum handshake_kind */
    uint8_t close;                     /* enum close_kind */
    int8_t first_fin;                  /* role that sent the first FIN, -1 none */
    int8_t rst_by;                     /* role whose RST ended it, -1 none */
    uint8_t hist_exp[2][ZEEK_CNT_COUNT]; /* [role][T, W, G] letters appended so far */
    char history[CONN_HISTORY_MAX + 1];
    uint32_t hist_last_seq[2][3];      /* [role][S/H, F, R] last seq recorded */
    uint32_t hist_cnt[2][ZEEK_CNT_COUNT]; /* [role][T, W, G] events counted */
};

/* One state change of one endpoint. */
struct tcp_event {
    int64_t ts_ns;
    uint64_t frame;
    uint64_t conn;          /* connection id */
    enum role endpoint;
    enum tcp_state from, to;
    const char *cause;      /* static text: "sent SYN", "received FIN", ... */
};

/* What the tracker says about one packet, for the sinks' packet lines. */
#define TRACK_MAX_EVENTS 6
struct track_info {
    const struct conn *conn;
    enum role sender;
    bool has_seq_base, has_ack_base;
    uint32_t seq_base, ack_base;       /* subtract for relative numbers (tcpdump rule) */
    uint8_t n_events;
    /* analysis notes for this segment */
    bool retransmit, fast_retransmit, out_of_order, dup_ack, keepalive, window_probe,
        zero_window, above_mss;
    uint16_t peer_mss;                 /* MSS the receiver announced (0 unknown) */
    struct tcp_event events[TRACK_MAX_EVENTS]; /* last: only n_events of it are set */
};

struct tcp_tracker_opts {
    uint32_t max_conns;      /* flow table cap */
    int64_t idle_ns;         /* established idle timeout */
    int64_t half_open_ns;    /* half-open idle timeout */
    int64_t msl_ns;          /* TIME_WAIT lasts 2 * msl */
    bool no_fast_path;       /* tests: every segment through the general path */
};

/* Callbacks into the sinks. */
struct tcp_tracker_out {
    void *ctx;
    void (*event)(void *ctx, const struct tcp_event *e);
    void (*conn_end)(void *ctx, const struct conn *c, enum conn_end_reason why);
};

struct tcp_tracker;

/* Defaults: 262144 connections, 5 min idle, 60 s half-open, MSL 30 s. */
void tcp_tracker_default_opts(struct tcp_tracker_opts *o);

/* Create a tracker; NULL when memory is short. */
struct tcp_tracker *tcp_tracker_new(const struct tcp_tracker_opts *o,
                                    const struct tcp_tracker_out *out);
void tcp_tracker_free(struct tcp_tracker *t);

/* Feed one decoded packet (any packet: time advances timers; only tcp_valid packets are
 * tracked).  Anomalies the tracker finds (tcp.rst_in_window, ...) are added to p.
 * Fills *ti for TCP packets (ti->conn NULL otherwise), including the state changes this
 * packet caused (ti->events; the caller passes them on).  Connection ends and timer-driven
 * state changes are reported through the callbacks before this returns.  ti->conn stays
 * valid until the next call. */
void tcp_tracker_on_packet(struct tcp_tracker *t, struct packet *p,
                           struct track_info *ti);

/* Looking ahead.  A caller holding several decoded packets (the pipeline reads files in
 * batches) prepares each one before its turn: tcp_tracker_prepare() computes its flow key
 * and hash and asks the CPU for the hash-index cell; tcp_tracker_prefetch(), a little
 * later, asks for the flow entry and the connection record the index points at.  Both
 * are pure hints: they change nothing, and tcp_tracker_on_prepared() (which is
 * tcp_tracker_on_packet() with the key already made) gives exactly the same results. */
struct tcp_prep {
    struct flow_key key;
    uint64_t hash;
    uint32_t guess;  /* slot the index pointed at when prefetched (a hint) */
    bool rev;
    bool tracked;   /* a TCP packet the tracker will look up */
};
void tcp_tracker_prepare(const struct tcp_tracker *t, const struct packet *p,
                         struct tcp_prep *pr);
void tcp_tracker_prefetch(const struct tcp_tracker *t, struct tcp_prep *pr);
/* A third step, once the record has been asked for: its timer-list neighbours. */
void tcp_tracker_prefetch_links(const struct tcp_tracker *t, const struct tcp_prep *pr);
void tcp_tracker_on_prepared(struct tcp_tracker *t, struct packet *p,
                             const struct tcp_prep *pr, struct track_info *ti);

/* End of input: report every connection still in the table (id order). */
void tcp_tracker_finish(struct tcp_tracker *t);

struct tcp_tracker_stats {
    uint64_t conns;          /* connections created */
    uint64_t ended_closed, ended_idle, ended_evicted, ended_reused, ended_input;
    uint64_t fast_segments;  /* segments taken by the common-segment fast path */
    uint64_t lone_syns;      /* records kept in the short form of a lone SYN */
    struct flow_table_stats flow;
};
void tcp_tracker_stats(const struct tcp_tracker *t, struct tcp_tracker_stats *st);

/* Zeek's conn_state for a connection ("SF", "S0", "REJ", ...). */
const char *conn_state_zeek(const struct conn *c);

/* Names used in output. */
const char *handshake_kind_name(enum handshake_kind k);
const char *close_kind_name(enum close_kind k);
/* "client", "server", "both", or NULL when not closed. */
const char *conn_active_closer(const struct conn *c);
/* bytes in sequence space as Zeek counts them (SYN and FIN excluded). */
uint64_t tcp_endpoint_bytes(const struct tcp_endpoint *e);

#endif
