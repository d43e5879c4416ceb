/* tcp_tracker.c - the TCP state of both endpoints of every connection, from packets.
 *
 * Pipeline place: flow table -> [tcp tracker] -> sinks (see tcp_tracker.h).
 *
 * For each segment, in this order:
 *   1. find the connection (or create it; a new SYN with another ISN on a known
 *      4-tuple ends the old record: Zeek's port-reuse rule);
 *   2. sequence analysis of the sender's data: new data, gap, out-of-order fill,
 *      retransmission, keep-alive, window probe, segment size against the peer's MSS;
 *   3. acknowledgment analysis: duplicate ACKs, data acknowledged but never seen;
 *   4. the sender's own transition (what it sent: SYN, SYN/ACK, FIN, RST), then the
 *      receiver's, by one handler per receiver state (RFC 9293 section 3.10.7);
 *   5. Zeek history and states (conn_zeek.c), handshake, close kind, timer class.
 * Every state change goes through set_state(), which records the event.
 *
 * Sequence numbers are unwrapped per endpoint into int64 offsets from its ISN, so
 * comparisons survive the wrap at 2^32 and captures that start mid-stream.
 */
#include "synack/tcp_tracker.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "conn_zeek.h"

/* Handshake segments seen (conn.hs_bits). */
#define HS_SYN 0x01
#define HS_SYNACK 0x02
#define HS_ACK 0x04
#define HS_RST 0x08 /* the SYN was answered by a RST */
#define HS_SIM 0x10 /* SYN crossed SYN */

struct tcp_tracker {
    struct tcp_tracker_opts o;
    struct tcp_tracker_out out;
    struct flow_table *ft;
    struct conn *conns;        /* parallel to the flow table's slots */
    size_t conns_bytes;        /* their mapping's length */
    struct lone_syn *lone;     /* parallel too: the short form of a lone SYN's record */
    size_t lone_bytes;
    uint64_t *lone_bits;       /* slots whose record is in the short form */
    struct conn building;      /* a record being made from a bare SYN (see lone_keep) */
    struct conn ending;        /* a short-form record expanded to be reported */
    uint32_t slots_seen;       /* highest slot used + 1 */
    uint64_t next_id;
    uint32_t pending_end;      /* slot whose connection closed at the previous packet */
    struct track_info *ti;     /* the packet being processed (events go there) */
    const struct packet *pkt;
    int64_t timer_ns;          /* when the timer firing now expired (pkt NULL) */
    struct tcp_tracker_stats st;
};

/* ---------------------------------------------------------------- names */

static const char *const state_names[] = {
#define TCP_STATE_NAME(s) #s,
    TCP_STATES(TCP_STATE_NAME)
#undef TCP_STATE_NAME
};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < TCPS_COUNT ? state_names[s] : "?";
}

const char *handshake_kind_name(enum handshake_kind k)
{
    switch (k) {
    case HS_NO_REPLY: return "no_reply";
    case HS_PARTIAL: return "partial";
    case HS_COMPLETE: return "complete";
    case HS_REFUSED: return "refused";
    case HS_SIMULTANEOUS: return "simultaneous";
    default: return "not_seen";
    }
}

const char *close_kind_name(enum close_kind k)
{
    switch (k) {
    case CLOSE_FIN: return "fin";
    case CLOSE_HALF: return "half_close";
    case CLOSE_SIMULTANEOUS: return "simultaneous";
    case CLOSE_RST_CLIENT: return "rst_client";
    case CLOSE_RST_SERVER: return "rst_server";
    default: return "none";
    }
}

const char *conn_active_closer(const struct conn *c)
{
    switch ((enum close_kind)c->close) {
    case CLOSE_SIMULTANEOUS: return "both";
    case CLOSE_FIN:
    case CLOSE_HALF: return c->first_fin == ROLE_SERVER ? "server" : "client";
    case CLOSE_RST_CLIENT: return "client";
    case CLOSE_RST_SERVER: return "server";
    default: return NULL;
    }
}

uint64_t tcp_endpoint_bytes(const struct tcp_endpoint *e)
{
    if (!e->isn_known)
        return 0;
    int64_t hi = e->max_end > e->acked ? e->max_end : e->acked;
    int64_t n = hi - 1; /* data starts at offset 1, after the (real or assumed) SYN */
    if (e->fin_seen && n > 0)
        n--;
    return n > 0 ? (uint64_t)n : 0;
}

/* ---------------------------------------------------------------- options */

void tcp_tracker_default_opts(struct tcp_tracker_opts *o)
{
    o->max_conns = 262144;
    o->idle_ns = 300LL * 1000000000;
    o->half_open_ns = 60LL * 1000000000;
    o->msl_ns = 30LL * 1000000000;
    o->no_fast_path = false;
}

/* ---------------------------------------------------------------- events */

static void emit(struct tcp_tracker *t, const struct tcp_event *e)
{
    struct track_info *ti = t->ti;
    if (ti && ti->n_events < TRACK_MAX_EVENTS)
        ti->events[ti->n_events++] = *e;
    else if (t->out.event)
        t->out.event(t->out.ctx, e);
}

/* The one place an endpoint's state changes. */
static void set_state(struct tcp_tracker *t, struct conn *c, enum role r, enum tcp_state to,
                      const char *cause)
{
    struct tcp_endpoint *e = &c->ep[r];
    if (e->state == to)
        return;
    struct tcp_event ev = {
        .ts_ns = t->pkt ? t->pkt->ts_ns : t->timer_ns,
        .frame = t->pkt ? t->pkt->n : c->last_frame,
        .conn = c->id,
        .endpoint = r,
        .from = (enum tcp_state)e->state,
        .to = to,
        .cause = cause,
    };
    e->state = (uint8_t)to;
    emit(t, &ev);
}

/* A state the observer infers without an event of its own (the CLOSED before an active
 * open, the LISTEN before a SYN/ACK). */
static void assume_state(struct conn *c, enum role r, enum tcp_state s)
{
    c->ep[r].state = (uint8_t)s;
}

/* ---------------------------------------------------------------- lone SYNs */

/* A connection that is one bare SYN and nothing else (a SYN flood is millions of them,
 * a port scan too) keeps its record in this short form, about a tenth of struct conn:
 * the full record is written only when a second packet arrives.  The short form is
 * lossless by construction: a new record is kept short only when expanding the short
 * form gives back exactly the record the general path built (lone_keep). */
struct lone_syn {
    uint64_t id;
    int64_t ts_ns;        /* the SYN's time: first, last and syn time */
    uint64_t frame;
    uint32_t isn;
    uint16_t win, mss;
    uint8_t wscale;
    uint8_t opts;         /* LONE_* */
    uint8_t client_key;
};

#define LONE_MSS 0x01
#define LONE_WSCALE 0x02
#define LONE_SACK_PERM 0x04
#define LONE_TS 0x08

static bool lone_is(const struct tcp_tracker *t, uint32_t slot)
{
    return (t->lone_bits[slot / 64] >> (slot % 64)) & 1;
}

static void lone_mark(struct tcp_tracker *t, uint32_t slot, bool on)
{
    uint64_t bit = (uint64_t)1 << (slot % 64);
    t->lone_bits[slot / 64] = on ? t->lone_bits[slot / 64] | bit : t->lone_bits[slot / 64] & ~bit;
}

static void fill_addrs(struct conn *c, const struct flow_key *k)
{
    for (int r = 0; r < 2; r++) {
        int key_idx = r == ROLE_CLIENT ? c->client_key : 1 - c->client_key;
        memcpy(c->ep[r].addr, flow_key_addr(k, key_idx), k->family == 6 ? 16 : 4);
        c->ep[r].port = k->port[key_idx];
    }
}

/* The full record of a lone SYN: what create_conn and one pass of the general path
 * leave for a client's bare SYN. */
static void lone_expand(const struct tcp_tracker *t, uint32_t slot, const struct lone_syn *l,
                        struct conn *c)
{
    memset(c, 0, sizeof *c);
    const struct flow_key *k = flow_table_key(t->ft, slot);
    c->id = l->id;
    c->first_ns = c->last_ns = c->syn_ns = l->ts_ns;
    c->first_frame = c->last_frame = l->frame;
    c->family = k->family;
    c->first_fin = c->rst_by = -1;
    c->client_key = l->client_key;
    fill_addrs(c, k);
    c->hs_bits = HS_SYN;
    c->handshake = HS_NO_REPLY;
    struct tcp_endpoint *e = &c->ep[ROLE_CLIENT];
    e->state = TCPS_SYN_SENT;
    e->zstate = ZS_SYN_SENT;
    e->seen = e->syn_seen = e->isn_known = 1;
    e->isn = l->isn;
    e->max_end = 1;
    e->packets = 1;
    e->last_win = l->win;
    e->has_mss = (l->opts & LONE_MSS) != 0;
    e->mss = l->mss;
    e->has_wscale = (l->opts & LONE_WSCALE) != 0;
    e->wscale = l->wscale;
    e->sack_perm = (l->opts & LONE_SACK_PERM) != 0;
    e->has_ts = (l->opts & LONE_TS) != 0;
    zeek_history_by_seq(c, 'S', 0, ROLE_CLIENT, l->isn);
}

/* Keep a just-built record (t->building) in the short form if that loses nothing. */
static bool lone_keep(struct tcp_tracker *t, uint32_t slot, const struct conn *c)
{
    const struct tcp_endpoint *e = &c->ep[ROLE_CLIENT];
    struct lone_syn l = {
        .id = c->id,
        .ts_ns = c->first_ns,
        .frame = c->first_frame,
        .isn = e->isn,
        .win = e->last_win,
        .mss = e->mss,
        .wscale = e->wscale,
        .opts = (uint8_t)((e->has_mss ? LONE_MSS : 0) | (e->has_wscale ? LONE_WSCALE : 0) |
                          (e->sack_perm ? LONE_SACK_PERM : 0) | (e->has_ts ? LONE_TS : 0)),
        .client_key = c->client_key,
    };
    struct conn x;
    lone_expand(t, slot, &l, &x);
    if (memcmp(&x, c, sizeof x) != 0)
        return false;
    t->lone[slot] = l;
    lone_mark(t, slot, true);
    t->st.lone_syns++;
    return true;
}

/* The record of a slot for reading at its end: the full one, or the short form expanded. */
static struct conn *record_at_end(struct tcp_tracker *t, uint32_t slot)
{
    if (!lone_is(t, slot))
        return &t->conns[slot];
    lone_expand(t, slot, &t->lone[slot], &t->ending);
    return &t->ending;
}

/* A second packet for a lone SYN: write its full record. */
static void lone_promote(struct tcp_tracker *t, uint32_t slot)
{
    lone_expand(t, slot, &t->lone[slot], &t->conns[slot]);
    lone_mark(t, slot, false);
}

/* ---------------------------------------------------------------- connection ends */

static void end_conn(struct tcp_tracker *t, uint32_t slot, enum conn_end_reason why)
{
    bool lone = lone_is(t, slot);
    struct conn *c = record_at_end(t, slot);
    if (c->ended || c->id == 0)
        return;
    c->ended = 1;
    if (lone)
        lone_mark(t, slot, false); /* its slot is released next: conns[slot] is stale */
    switch (why) {
    case CONN_END_CLOSED: t->st.ended_closed++; break;
    case CONN_END_IDLE: t->st.ended_idle++; break;
    case CONN_END_EVICTED: t->st.ended_evicted++; break;
    case CONN_END_REUSED: t->st.ended_reused++; break;
    case CONN_END_INPUT: t->st.ended_input++; break;
    }
    if (t->out.conn_end)
        t->out.conn_end(t->out.ctx, c, why);
}

/* The flow table removes a slot on its own: idle expiry, 2*MSL, or eviction. */
static void on_flow_end(void *ctx, uint32_t slot, enum flow_end_reason why)
{
    struct tcp_tracker *t = ctx;
    struct conn *c = record_at_end(t, slot);
    if (why == FLOW_END_EVICTED) {
        end_conn(t, slot, CONN_END_EVICTED);
        return;
    }
    bool tw = false;
    for (int r = 0; r < 2; r++) {
        if (c->ep[r].state == TCPS_TIME_WAIT) {
            const struct packet *saved = t->pkt;
            t->pkt = NULL; /* a timer, not a packet, causes this */
            struct track_info *ti = t->ti;
            t->ti = NULL;
            t->timer_ns = c->last_ns + 2 * t->o.msl_ns;
            set_state(t, c, (enum role)r, TCPS_CLOSED, "2*MSL timer expired");
            t->pkt = saved;
            t->ti = ti;
            tw = true;
        }
    }
    end_conn(t, slot, tw ? CONN_END_CLOSED : CONN_END_IDLE);
}

/* ---------------------------------------------------------------- create / free */

struct tcp_tracker *tcp_tracker_new(const struct tcp_tracker_opts *o,
                                    const struct tcp_tracker_out *out)
{
    struct tcp_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->o = *o;
    t->out = *out;
    struct flow_table_opts fo = {.max_conns = o->max_conns};
    fo.timeout_ns[FLOW_HALF_OPEN] = o->half_open_ns;
    fo.timeout_ns[FLOW_ACTIVE] = o->idle_ns;
    fo.timeout_ns[FLOW_CLOSING] = 2 * o->msl_ns;
    t->ft = flow_table_new(&fo, on_flow_end, t);
    /* Anonymous memory: zero, page-aligned (a record whose size is a multiple of 64
     * starts on a cache line), and resident only as slots are used. */
    t->conns_bytes = (size_t)o->max_conns * sizeof *t->conns;
    void *m = mmap(NULL, t->conns_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    t->conns = m == MAP_FAILED ? NULL : m;
    t->lone_bytes = (size_t)o->max_conns * sizeof *t->lone;
    m = mmap(NULL, t->lone_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t->lone = m == MAP_FAILED ? NULL : m;
    t->lone_bits = calloc((o->max_conns + 63) / 64, sizeof *t->lone_bits);
    if (!t->ft || !t->conns || !t->lone || !t->lone_bits) {
        tcp_tracker_free(t);
        return NULL;
    }
    t->pending_end = FLOW_NONE;
    return t;
}

void tcp_tracker_free(struct tcp_tracker *t)
{
    if (!t)
        return;
    flow_table_free(t->ft);
    if (t->conns)
        munmap(t->conns, t->conns_bytes);
    if (t->lone)
        munmap(t->lone, t->lone_bytes);
    free(t->lone_bits);
    free(t);
}

/* ---------------------------------------------------------------- roles */

static bool ephemeral_port(uint16_t p)
{
    return p >= 32768; /* Linux 32768-60999, IANA/BSD/Windows 49152-65535 */
}

/* Well-known service ports (README "Roles"): a port here is the server's. */
static bool service_port(uint16_t p)
{
    static const uint16_t ports[] = {20,   21,   22,   23,   25,   53,   80,   110,  111,
                                     119,  135,  139,  143,  179,  389,  443,  445,  465,
                                     502,  514,  587,  631,  636,  873,  993,  995,  1080,
                                     1433, 1521, 1723, 1883, 2049, 2181, 3128, 3306, 3389,
                                     5060, 5222, 5432, 5672, 5900, 6379, 6443, 7788, 7789,
                                     8000, 8080, 8443, 8883, 9000, 9092, 9200, 11211, 27017};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        if (ports[i] == p)
            return true;
    return false;
}

/* Mid-stream: is the sender of this first segment the server? */
static bool midstream_sender_is_server(uint16_t sport, uint16_t dport)
{
    bool se = ephemeral_port(sport), de = ephemeral_port(dport);
    if (se != de)
        return de;
    bool ss = service_port(sport), ds = service_port(dport);
    if (ss != ds)
        return ss;
    return sport < dport;
}

/* ---------------------------------------------------------------- sequence space */

/* Unwrap a 32-bit sequence number into an offset from isn, closest to ref. */
static int64_t unwrap(int64_t ref, uint32_t isn, uint32_t seq)
{
    uint32_t ref32 = (uint32_t)ref;
    int32_t d = (int32_t)((seq - isn) - ref32);
    return ref + d;
}

/* Scaled receive window an endpoint advertised last. */
static int64_t window_of(const struct conn *c, const struct tcp_endpoint *e)
{
    bool scaled = c->ep[0].has_wscale && c->ep[1].has_wscale;
    return (int64_t)e->last_win << (scaled ? (e->wscale > 14 ? 14 : e->wscale) : 0);
}

/* ---------------------------------------------------------------- per-segment context */

struct seg {
    const struct packet *p;
    const struct pkt_tcp *tcp;
    enum role sr, rr;        /* sender and receiver roles */
    uint8_t flags;
    uint32_t len;            /* payload length */
    int64_t start, end;      /* sender-relative offsets of [seq, seq+len+SYN+FIN) */
    int64_t ack;             /* receiver-relative offset of the ack (valid if ACK) */
    bool ack_valid;
    bool rst_ok;             /* the RST is acceptable to the receiver */
    bool zeek_retransmit;
    bool gap_seq;            /* sequence space skipped before this segment */
    bool gap_ack;            /* data acknowledged that the capture never showed */
};

/* Make sure an endpoint has a sequence base; returns its offset for seq. */
static void learn_isn(struct tcp_endpoint *e, uint32_t isn, bool from_syn)
{
    e->isn = isn;
    e->isn_known = 1;
    e->max_end = from_syn ? 0 : 1; /* an unseen SYN is assumed at offset 0 */
    e->acked = e->max_end;
}

/* ---------------------------------------------------------------- sequence analysis */

static void analyse_data(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *S = &c->ep[s->sr], *R = &c->ep[s->rr];
    struct track_info *ti = t->ti;
    const uint8_t f = s->flags;
    if (!S->isn_known)
        learn_isn(S, (f & TCP_SYN) ? s->tcp->seq : s->tcp->seq - 1, (f & TCP_SYN) != 0);
    s->start = unwrap(S->max_end, S->isn, s->tcp->seq);
    int64_t seglen = (int64_t)s->len + ((f & TCP_SYN) ? 1 : 0) + ((f & TCP_FIN) ? 1 : 0);
    s->end = s->start + seglen;
    if (f & TCP_RST)
        return; /* a RST carries no sequence space */

    /* Zeek's 'T' has no keep-alive exception: any payload not passing the highest seq */
    s->zeek_retransmit = s->len > 0 && s->end <= S->max_end;

    /* keep-alive and zero-window probes: one byte (or none) below snd.nxt */
    if (s->len <= 1 && !(f & (TCP_SYN | TCP_FIN)) && S->max_end >= 1 &&
        s->start == S->max_end - 1 && s->end <= S->max_end) {
        if (R->ack_seen && R->last_win == 0) {
            S->window_probes++;
            ti->window_probe = true;
        } else {
            S->keepalives++;
            ti->keepalive = true;
        }
        return;
    }
    if (s->len == 1 && R->ack_seen && R->last_win == 0 && s->start == S->max_end) {
        S->window_probes++;
        ti->window_probe = true;
    }
    if (seglen == 0)
        return;
    /* the first SYN/ACK after its own bare SYN (simultaneous open, RFC 9293 figure 7)
     * repeats the SYN by protocol, not because it was lost */
    if ((f & TCP_SYN) && (f & TCP_ACK) && S->syn_seen && !S->ack_seen && s->end <= S->max_end)
        return;

    if (s->start >= S->max_end) {
        if (s->start > S->max_end && S->seen) {
            s->gap_seq = true;
            if (!S->hole) {
                S->hole = 1;
                S->hole_lo = S->max_end;
                S->hole_hi = s->start;
            }
        }
        S->max_end = s->end;
        return;
    }
    /* below the highest sequence seen: fills a hole, or re-sends what was seen */
    if (S->hole && s->start < S->hole_hi && s->end > S->hole_lo) {
        S->out_of_order++;
        ti->out_of_order = true;
        if (s->start <= S->hole_lo)
            S->hole_lo = s->end < S->hole_hi ? s->end : S->hole_hi;
        else
            S->hole_hi = s->start;
        if (S->hole_lo >= S->hole_hi)
            S->hole = 0;
    } else {
        S->retransmits++;
        ti->retransmit = true;
        if (R->dup_ack_count >= 3 && R->ack_seen && R->last_ack == s->tcp->seq) {
            S->fast_retransmits++;
            ti->fast_retransmit = true;
        }
    }
    if (s->end > S->max_end)
        S->max_end = s->end;
}

static void analyse_ack(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *S = &c->ep[s->sr], *R = &c->ep[s->rr];
    struct track_info *ti = t->ti;
    const struct pkt_tcp *tcp = s->tcp;
    const uint8_t f = s->flags;
    if (f & TCP_ACK) {
        if (!R->isn_known)
            learn_isn(R, tcp->ack - 1, false);
        s->ack = unwrap(R->acked, R->isn, tcp->ack);
        s->ack_valid = true;
        bool pure = s->len == 0 && !(f & (TCP_SYN | TCP_FIN | TCP_RST));
        bool dup = pure && S->ack_seen && tcp->ack == S->last_ack && tcp->win == S->last_win &&
                   tcp->win != 0 &&
                   R->max_end > s->ack && !ti->keepalive && !ti->window_probe;
        if (dup) {
            S->dup_acks++;
            S->dup_ack_count++;
            ti->dup_ack = true;
        } else if (!S->ack_seen || (int32_t)(tcp->ack - S->last_ack) > 0) {
            S->dup_ack_count = 0;
        }
        if (!(f & (TCP_RST | TCP_SYN))) {
            /* data acknowledged that the capture never showed (a SYN/ACK's ack
             * concerns only the SYN, and a RST's is not trusted) */
            if (R->hole && s->ack >= R->hole_hi) {
                R->bytes_missed += (uint64_t)(R->hole_hi - R->hole_lo);
                R->hole = 0;
                s->gap_ack = true;
            }
            if (s->ack > R->max_end && R->seen) {
                R->bytes_missed += (uint64_t)(s->ack - R->max_end);
                R->max_end = s->ack;
                s->gap_ack = true;
            }
        }
        if (!(f & TCP_RST) && s->ack > R->acked)
            R->acked = s->ack;
        if (!S->ack_seen || (int32_t)(tcp->ack - S->last_ack) > 0)
            S->last_ack = tcp->ack;
        S->ack_seen = 1;
    }
    if (!(f & TCP_RST)) {
        S->last_win = tcp->win;
        if (tcp->win == 0 && !(f & TCP_SYN)) {
            S->zero_windows++;
            ti->zero_window = true;
        }
    }
}

/* ---------------------------------------------------------------- RST acceptability */

/* Does the segment acknowledge R's SYN, i.e. ISS < SEG.ACK =< SND.NXT (RFC 9293
 * 3.10.7.3)?  With data on the SYN (TCP Fast Open) the peer may acknowledge the SYN
 * alone (RFC 7413 4.2.2). */
static bool acks_syn(const struct seg *s, const struct tcp_endpoint *R)
{
    return s->ack_valid && R->isn_known && s->ack >= 1 && s->ack <= R->max_end;
}

/* RFC 5961 as Linux applies it: in SYN_SENT a RST must acknowledge the SYN; otherwise
 * it must sit exactly at the next expected sequence number.  In the window but not
 * exact: a challenge ACK answers it and it is ignored; outside: ignored. */
static bool rst_acceptable(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *S = &c->ep[s->sr], *R = &c->ep[s->rr];
    struct packet *p = (struct packet *)t->pkt;
    if (R->state == TCPS_SYN_SENT)
        return acks_syn(s, R);
    if (!S->seen || !R->seen)
        return true; /* nothing to check against */
    if (s->start == S->max_end)
        return true;
    int64_t d = s->start - S->max_end;
    if (d > 0 && d < window_of(c, R)) {
        p->anomalies |= ANOMALY_BIT(ANOMALY_TCP_RST_IN_WINDOW);
        return false;
    }
    /* a RST just behind snd.nxt (the peer had not yet seen the last bytes) is common
     * for a RST answering data after close: the stack uses the ack it received */
    p->anomalies |= ANOMALY_BIT(ANOMALY_TCP_RST_OUT_OF_WINDOW);
    return false;
}

/* ---------------------------------------------------------------- sender transitions */

static bool covers(const struct seg *s, const struct tcp_endpoint *fin_sender)
{
    /* does this segment's ACK cover fin_sender's FIN? (FIN at offset fin_end - 1) */
    if (!s->ack_valid || !fin_sender->fin_seen)
        return false;
    int64_t fin_off = unwrap(fin_sender->max_end, fin_sender->isn, fin_sender->fin_seq);
    return s->ack >= fin_off + 1;
}

/* First segment from an endpoint that did not open with a SYN: infer where it was. */
static void infer_midstream(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *S = &c->ep[s->sr], *R = &c->ep[s->rr];
    if (S->state != TCPS_UNKNOWN || (s->flags & TCP_SYN))
        return;
    if (s->flags & TCP_RST) {
        return; /* handled by the RST path: an endpoint that only resets */
    }
    set_state(t, c, s->sr, TCPS_ESTABLISHED, "mid-stream: first segment, no handshake seen");
    if (R->fin_seen)
        set_state(t, c, s->sr, TCPS_CLOSE_WAIT, "had received the peer's FIN");
}

static void sender_transition(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *S = &c->ep[s->sr], *R = &c->ep[s->rr];
    const uint8_t f = s->flags;
    if (f & TCP_RST) {
        if (!s->rst_ok)
            return;
        if (S->state == TCPS_UNKNOWN && R->state == TCPS_SYN_SENT)
            set_state(t, c, s->sr, TCPS_CLOSED, "sent RST: nothing listening (refused)");
        else
            set_state(t, c, s->sr, TCPS_CLOSED, "sent RST");
        return;
    }
    if ((f & TCP_SYN) && !(f & TCP_ACK)) {
        if (S->state == TCPS_UNKNOWN || S->state == TCPS_CLOSED) {
            assume_state(c, s->sr, TCPS_CLOSED);
            set_state(t, c, s->sr, TCPS_SYN_SENT, "sent SYN (active open)");
            /* SYN crossing SYN: the peer's SYN reaches this side as well (RFC 9293
             * 3.5, figure 7), each side goes on to SYN_RECEIVED */
            if (R->state == TCPS_SYN_SENT)
                set_state(t, c, s->sr, TCPS_SYN_RECEIVED,
                          "received SYN (simultaneous open)");
        }
        return;
    }
    if ((f & TCP_SYN) && (f & TCP_ACK)) {
        if (S->state == TCPS_UNKNOWN) {
            assume_state(c, s->sr, TCPS_LISTEN);
            set_state(t, c, s->sr, TCPS_SYN_RECEIVED, "sent SYN/ACK (passive open)");
        } else if (S->state == TCPS_SYN_SENT) {
            c->simultaneous_open = 1;
            c->hs_bits |= HS_SIM;
            set_state(t, c, s->sr, TCPS_SYN_RECEIVED, "sent SYN/ACK (simultaneous open)");
        }
        return;
    }
    if (f & TCP_FIN) {
        bool first = !S->fin_seen;
        if (!first)
            return;
        switch ((enum tcp_state)S->state) {
        case TCPS_ESTABLISHED:
        case TCPS_SYN_RECEIVED:
            set_state(t, c, s->sr, TCPS_FIN_WAIT_1, "sent FIN (active close)");
            break;
        case TCPS_CLOSE_WAIT:
            /* its FIN does not acknowledge the peer's FIN: it had not received it yet,
             * so both FINs crossed (simultaneous close) */
            if (R->fin_seen && !covers(s, R))
                set_state(t, c, s->sr, TCPS_CLOSING, "sent FIN before receiving the peer's "
                                                     "(simultaneous close)");
            else
                set_state(t, c, s->sr, TCPS_LAST_ACK, "sent FIN (passive close)");
            break;
        case TCPS_SYN_SENT:
            set_state(t, c, s->sr, TCPS_CLOSED, "sent FIN before the handshake completed");
            break;
        default:
            break;
        }
    }
}

/* ---------------------------------------------------------------- receiver handlers */

/* Nothing left of the connection at this endpoint (LISTEN: back to listening after a
 * RST in SYN_RECEIVED). */
static bool closed_or_unseen(const struct tcp_endpoint *e)
{
    return e->state == TCPS_CLOSED || e->state == TCPS_UNKNOWN || e->state == TCPS_LISTEN;
}

typedef void (*recv_handler)(struct tcp_tracker *, struct conn *, struct seg *);

static void recv_syn_sent(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *R = &c->ep[s->rr];
    const uint8_t f = s->flags;
    if (f & TCP_RST) {
        if (s->rst_ok) {
            set_state(t, c, s->rr, TCPS_CLOSED, "received RST/ACK for its SYN: refused");
            c->hs_bits |= HS_RST;
        }
        return;
    }
    if ((f & TCP_SYN) && (f & TCP_ACK)) {
        if (acks_syn(s, R)) {
            set_state(t, c, s->rr, TCPS_ESTABLISHED, "received SYN/ACK");
        } else {
            ((struct packet *)t->pkt)->anomalies |= ANOMALY_BIT(ANOMALY_TCP_SYNACK_WRONG_ACK);
        }
        return;
    }
    if (f & TCP_SYN) {
        c->hs_bits |= HS_SIM;
        c->simultaneous_open = 1;
        set_state(t, c, s->rr, TCPS_SYN_RECEIVED, "received SYN (simultaneous open)");
    }
}

static void recv_syn_received(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *R = &c->ep[s->rr];
    if (s->ack_valid && s->ack >= 1 && R->isn_known && (s->flags & TCP_ACK) &&
        !(s->flags & TCP_RST)) {
        set_state(t, c, s->rr, TCPS_ESTABLISHED, "received ACK of its SYN");
        if (s->flags & TCP_FIN)
            set_state(t, c, s->rr, TCPS_CLOSE_WAIT, "received FIN");
    }
}

static void recv_established(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    if (s->flags & TCP_FIN)
        set_state(t, c, s->rr, TCPS_CLOSE_WAIT, "received FIN (peer closed: passive close)");
}

static void recv_fin_wait_1(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *R = &c->ep[s->rr];
    bool acked = covers(s, R), fin = s->flags & TCP_FIN;
    if (acked && fin)
        set_state(t, c, s->rr, TCPS_TIME_WAIT, "received FIN+ACK of its FIN");
    else if (acked)
        set_state(t, c, s->rr, TCPS_FIN_WAIT_2, "received ACK of its FIN");
    else if (fin)
        set_state(t, c, s->rr, TCPS_CLOSING, "received FIN before the ACK of its own "
                                            "(simultaneous close)");
}

static void recv_fin_wait_2(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    if (s->flags & TCP_FIN)
        set_state(t, c, s->rr, TCPS_TIME_WAIT, "received FIN");
}

static void recv_closing(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    if (covers(s, &c->ep[s->rr]))
        set_state(t, c, s->rr, TCPS_TIME_WAIT, "received ACK of its FIN");
}

static void recv_last_ack(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    if (covers(s, &c->ep[s->rr]))
        set_state(t, c, s->rr, TCPS_CLOSED, "received ACK of its FIN");
}

static void recv_nothing(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    (void)t;
    (void)c;
    (void)s;
}

static const recv_handler recv_handlers[TCPS_COUNT] = {
    [TCPS_UNKNOWN] = recv_nothing,
    [TCPS_CLOSED] = recv_nothing,
    [TCPS_LISTEN] = recv_nothing,
    [TCPS_SYN_SENT] = recv_syn_sent,
    [TCPS_SYN_RECEIVED] = recv_syn_received,
    [TCPS_ESTABLISHED] = recv_established,
    [TCPS_FIN_WAIT_1] = recv_fin_wait_1,
    [TCPS_FIN_WAIT_2] = recv_fin_wait_2,
    [TCPS_CLOSE_WAIT] = recv_nothing,
    [TCPS_CLOSING] = recv_closing,
    [TCPS_LAST_ACK] = recv_last_ack,
    [TCPS_TIME_WAIT] = recv_nothing,
};

static void receiver_transition(struct tcp_tracker *t, struct conn *c, struct seg *s)
{
    struct tcp_endpoint *R = &c->ep[s->rr];
    if ((s->flags & TCP_RST) && R->state != TCPS_SYN_SENT) {
        if (!s->rst_ok || closed_or_unseen(R))
            return;
        /* RFC 9293 3.10.7.4: a connection that came from a passive OPEN returns to LISTEN */
        if (R->state == TCPS_SYN_RECEIVED && !c->simultaneous_open)
            set_state(t, c, s->rr, TCPS_LISTEN, "received RST: back to LISTEN");
        else
            set_state(t, c, s->rr, TCPS_CLOSED, "received RST (connection aborted)");
        return;
    }
    recv_handlers[R->state](t, c, s);
}

/* ---------------------------------------------------------------- record keeping */

static void note_options(struct conn *c, struct seg *s)
{
    struct tcp_endpoint *S = &c->ep[s->sr];
    const struct tcp_opts *o = &s->tcp->o;
    if (!(s->flags & TCP_SYN))
        return;
    if (o->present & TCPO_MSS) {
        S->has_mss = 1;
        S->mss = o->mss;
    }
    if (o->present & TCPO_WSCALE) {
        S->has_wscale = 1;
        S->wscale = o->wscale;
    }
    S->sack_perm = (o->present & TCPO_SACK_PERM) != 0;
    S->has_ts = (o->present & TCPO_TS) != 0;
    S->ecn_syn = (s->flags & (TCP_ECE | TCP_CWR)) != 0;
    if (s->len > 0)
        S->tfo_data = 1;
}

static void note_handshake(struct tcp_tracker *t, struct conn *c, struct seg *s,
                           enum tcp_state server_before)
{
    const uint8_t f = s->flags;
    int64_t ts = t->pkt->ts_ns;
    if ((f & TCP_SYN) && !(f & TCP_ACK) && s->sr == ROLE_CLIENT) {
        c->hs_bits |= HS_SYN;
        if (!(c->hs_bits & HS_SYNACK))
            c->syn_ns = ts; /* the last SYN before the SYN/ACK is the one it answers */
    } else if ((f & TCP_SYN) && (f & TCP_ACK) && s->sr == ROLE_SERVER) {
        if (!(c->hs_bits & HS_SYNACK))
            c->synack_ns = ts;
        c->hs_bits |= HS_SYNACK;
    } else if (server_before == TCPS_SYN_RECEIVED && c->ep[ROLE_SERVER].state != TCPS_SYN_RECEIVED &&
               s->sr == ROLE_CLIENT && (f & TCP_ACK) && !(f & TCP_RST)) {
        c->hs_bits |= HS_ACK;
        c->ack_ns = ts;
    }
    uint8_t h = c->hs_bits;
    enum handshake_kind k;
    if (h & HS_SIM)
        k = HS_SIMULTANEOUS;
    else if ((h & HS_SYN) && (h & HS_RST) && !(h & HS_SYNACK))
        k = HS_REFUSED;
    else if ((h & (HS_SYN | HS_SYNACK | HS_ACK)) == (HS_SYN | HS_SYNACK | HS_ACK))
        k = HS_COMPLETE;
    else if (h == HS_SYN)
        k = HS_NO_REPLY;
    else if (h & (HS_SYN | HS_SYNACK))
        k = HS_PARTIAL;
    else
        k = HS_NOT_SEEN;
    c->handshake = (uint8_t)k;
}

static void note_close(struct conn *c, struct seg *s)
{
    struct tcp_endpoint *S = &c->ep[s->sr], *R = &c->ep[s->rr];
    const uint8_t f = s->flags;
    /* data toward the first FIN's sender after that FIN: a half-close */
    if (s->len > 0 && R->fin_seen && c->first_fin == (int8_t)s->rr)
        S->data_after_peer_fin += s->len;
    if ((f & TCP_FIN) && !(f & TCP_RST) && !S->fin_seen) {
        S->fin_seen = 1;
        S->fin_seq = s->tcp->seq + s->len;
        if (c->first_fin < 0) {
            c->first_fin = (int8_t)s->sr;
        } else if (c->close == CLOSE_NONE) {
            if (!covers(s, R))
                c->close = CLOSE_SIMULTANEOUS;
            else if (S->data_after_peer_fin > 0)
                c->close = CLOSE_HALF;
            else
                c->close = CLOSE_FIN;
        }
    }
    if ((f & TCP_RST) && s->rst_ok && c->close == CLOSE_NONE) {
        c->rst_by = (int8_t)s->sr;
        c->close = (uint8_t)(s->sr == ROLE_CLIENT ? CLOSE_RST_CLIENT : CLOSE_RST_SERVER);
    }
}

static enum flow_class class_of(const struct conn *c)
{
    const struct tcp_endpoint *a = &c->ep[0], *b = &c->ep[1];
    bool a_done = closed_or_unseen(a) || a->state == TCPS_TIME_WAIT;
    bool b_done = closed_or_unseen(b) || b->state == TCPS_TIME_WAIT;
    if (a_done && b_done)
        return FLOW_CLOSING;
    if (c->hs_bits == HS_SYN && !c->ep[ROLE_SERVER].seen)
        return FLOW_HALF_OPEN;
    return FLOW_ACTIVE;
}

/* tcpdump's relative numbering: the first ACK-bearing segment of a connection (or any
 * SYN/ACK) sets both bases and prints absolute; later ones print relative. */
static void seq_bases(struct conn *c, struct seg *s, struct track_info *ti)
{
    const struct pkt_tcp *tcp = s->tcp;
    if (!(s->flags & TCP_ACK))
        return;
    if (!c->seqbase_set || (s->flags & TCP_SYN)) {
        c->seqbase[s->sr] = tcp->seq;
        c->seqbase[s->rr] = tcp->ack - 1;
        c->seqbase_set = 1;
        return;
    }
    ti->has_seq_base = ti->has_ack_base = true;
    ti->seq_base = c->seqbase[s->sr];
    ti->ack_base = c->seqbase[s->rr];
}

/* ---------------------------------------------------------------- lookup / create */

static bool is_reuse(const struct conn *c, enum role sr, const struct pkt_tcp *tcp)
{
    uint8_t f = tcp->flags;
    if (!(f & TCP_SYN) || (f & (TCP_RST | TCP_FIN)))
        return false;
    if (!(f & TCP_ACK)) {
        const struct tcp_endpoint *e = &c->ep[sr];
        if (sr == ROLE_SERVER && !e->seen)
            return false; /* SYN crossing the client's SYN: simultaneous open */
        if (sr == ROLE_SERVER)
            return !(e->syn_seen && tcp->seq == e->isn); /* the old server opens anew */
        return e->isn_known && tcp->seq != e->isn;
    }
    /* a SYN/ACK reuses only a connection seen from the server alone */
    const struct tcp_endpoint *sv = &c->ep[ROLE_SERVER];
    if (c->ep[ROLE_CLIENT].seen || sr != ROLE_SERVER)
        return false;
    return sv->syn_seen && tcp->seq != sv->isn;
}

/* A new connection in a new slot (*slot_out).  A bare SYN's record is built aside in
 * t->building: it may stay in the short form (lone_keep). */
static struct conn *create_conn(struct tcp_tracker *t, const struct flow_key *k, bool rev,
                                const struct packet *p, uint32_t *slot_out)
{
    const struct pkt_tcp *tcp = &p->u.tcp;
    uint8_t f = tcp->flags;
    bool bare_syn = (f & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN;
    enum flow_class cls = ((f & TCP_SYN) && !(f & TCP_ACK)) ? FLOW_HALF_OPEN : FLOW_ACTIVE;
    uint32_t slot = flow_table_insert(t->ft, k, p->ts_ns, cls);
    *slot_out = slot;
    struct conn *c = bare_syn && !t->o.no_fast_path ? &t->building : &t->conns[slot];
    memset(c, 0, sizeof *c);
    if (slot + 1 > t->slots_seen)
        t->slots_seen = slot + 1;
    c->id = ++t->next_id;
    t->st.conns++;
    c->first_ns = c->last_ns = p->ts_ns;
    c->first_frame = p->n;
    c->family = k->family;
    c->first_fin = c->rst_by = -1;
    int sender_key = rev ? 1 : 0;
    bool sender_server;
    if (f & TCP_SYN) {
        sender_server = (f & TCP_ACK) != 0;
        if (sender_server && midstream_sender_is_server(tcp->sport, tcp->dport)) {
            zeek_history_put(c, '^'); /* Zeek flips a first packet from a server port */
            c->flipped = 1;
        } else if (sender_server) {
            c->pending_flip = 1; /* Zeek: "H", then "^h" once the other side answers */
        }
    } else {
        sender_server = midstream_sender_is_server(tcp->sport, tcp->dport);
        c->midstream = 1;
        if (sender_server) {
            zeek_history_put(c, '^'); /* Zeek flips a first packet from a server port */
            c->flipped = 1;
        }
    }
    c->client_key = (uint8_t)(sender_server ? 1 - sender_key : sender_key);
    fill_addrs(c, k);
    return c;
}

/* ---------------------------------------------------------------- the common segment */

/* The segment most of any capture is made of: both endpoints ESTABLISHED (RFC and Zeek
 * view), no SYN/FIN/RST, in order (it starts at the sender's snd.nxt), acknowledging
 * nothing beyond what was seen, no hole on either side, no zero window, no duplicate
 * ACK, within the peer's MSS.  For such a segment the general path below changes no
 * state, finds no anomaly and emits no event; it only advances snd.nxt, the ACK and
 * window bookkeeping, the counters and the once-per-direction history letter.  This
 * function does exactly that, or returns false without touching anything so the
 * general path runs.  tracker_fastpath (tests/tracker) checks that both paths leave
 * identical records, per-packet views and events on every bundled capture. */
static bool fast_segment(struct tcp_tracker *t, uint32_t slot, struct conn *c, bool rev,
                         const struct packet *p, struct track_info *ti)
{
    const struct pkt_tcp *tcp = &p->u.tcp;
    const uint8_t f = tcp->flags;
    if ((f & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) != TCP_ACK || tcp->win == 0)
        return false;
    const enum role sr = (rev ? 1 : 0) == c->client_key ? ROLE_CLIENT : ROLE_SERVER;
    struct tcp_endpoint *S = &c->ep[sr], *R = &c->ep[1 - sr];
    if (S->state != TCPS_ESTABLISHED || R->state != TCPS_ESTABLISHED ||
        S->zstate != ZS_ESTABLISHED || R->zstate != ZS_ESTABLISHED || c->pending_flip ||
        !c->seqbase_set || c->history_full)
        return false;
    /* seen, isn_known and ack_seen on both sides; no hole, no FIN on either */
    if (!S->seen || !R->seen || !S->isn_known || !R->isn_known || !S->ack_seen ||
        S->hole || R->hole || S->fin_seen || R->fin_seen)
        return false;
    const uint32_t len = tcp->payload_len;
    int64_t start = unwrap(S->max_end, S->isn, tcp->seq);
    if (start != S->max_end)
        return false; /* a gap, a retransmission, a keep-alive or a probe */
    if (len == 1 && R->ack_seen && R->last_win == 0)
        return false; /* a window probe */
    int64_t ack = unwrap(R->acked, R->isn, tcp->ack);
    if (ack > R->max_end)
        return false; /* acknowledges data the capture never showed */
    if (len == 0 && tcp->ack == S->last_ack && tcp->win == S->last_win && R->max_end > ack)
        return false; /* a duplicate ACK */
    if (R->has_mss && len > 0 && len + (uint32_t)(tcp->doff - 20) > R->mss)
        return false; /* above the peer's MSS: noted by the general path */

    ti->conn = c;
    ti->sender = sr;
    c->last_ns = p->ts_ns;
    c->last_frame = p->n;
    S->packets++;
    if (len > S->max_payload)
        S->max_payload = len;
    S->max_end = start + len;
    if ((int32_t)(tcp->ack - S->last_ack) > 0) {
        S->dup_ack_count = 0;
        S->last_ack = tcp->ack;
    }
    if (ack > R->acked)
        R->acked = ack;
    S->last_win = tcp->win;
    if (len > 0)
        S->data_seen = 1;
    /* Zeek: 'D'/'d' for data, 'A'/'a' for a pure ACK, once per direction */
    zeek_history_once(c, len > 0 ? 'D' : 'A', len > 0 ? 2u : 3u, sr);
    ti->has_seq_base = ti->has_ack_base = true;
    ti->seq_base = c->seqbase[sr];
    ti->ack_base = c->seqbase[1 - sr];
    flow_table_touch(t->ft, slot, p->ts_ns, FLOW_ACTIVE);
    t->st.fast_segments++;
    return true;
}

/* ---------------------------------------------------------------- the packet path */

static void prep_key(const struct tcp_tracker *t, const struct packet *p, struct tcp_prep *pr)
{
    pr->tracked = p->l4 == L4_TCP && p->tcp_valid;
    if (!pr->tracked)
        return;
    flow_key_from_packet(&pr->key, &pr->rev, p);
    pr->hash = flow_table_hash(t->ft, &pr->key);
}

void tcp_tracker_prepare(const struct tcp_tracker *t, const struct packet *p,
                         struct tcp_prep *pr)
{
    prep_key(t, p, pr);
    if (pr->tracked)
        flow_table_prefetch_index(t->ft, pr->hash);
}

void tcp_tracker_prefetch(const struct tcp_tracker *t, struct tcp_prep *pr)
{
    pr->guess = FLOW_NONE;
    if (!pr->tracked)
        return;
    uint32_t slot = flow_table_guess(t->ft, pr->hash);
    pr->guess = slot;
    if (slot == FLOW_NONE)
        return;
    flow_table_prefetch_slot(t->ft, slot);
    if (lone_is(t, slot))
        return; /* its record is the short form: the full one is not read */
    /* the record's hot part: its header and both endpoints' first fields */
    const char *c = (const char *)&t->conns[slot];
    for (size_t off = 0; off < offsetof(struct conn, ep[1].hole_lo); off += 64)
        __builtin_prefetch(c + off, 1);
}

void tcp_tracker_prefetch_links(const struct tcp_tracker *t, const struct tcp_prep *pr)
{
    if (pr->tracked && pr->guess != FLOW_NONE)
        flow_table_prefetch_links(t->ft, pr->guess);
}

void tcp_tracker_on_packet(struct tcp_tracker *t, struct packet *p, struct track_info *ti)
{
    struct tcp_prep pr;
    prep_key(t, p, &pr);
    tcp_tracker_on_prepared(t, p, &pr, ti);
}

void tcp_tracker_on_prepared(struct tcp_tracker *t, struct packet *p,
                             const struct tcp_prep *pr, struct track_info *ti)
{
    memset(ti, 0, offsetof(struct track_info, events)); /* the events need no clearing */
    if (t->pending_end != FLOW_NONE) {
        end_conn(t, t->pending_end, CONN_END_CLOSED);
        flow_table_remove(t->ft, t->pending_end);
        t->pending_end = FLOW_NONE;
    }
    t->pkt = NULL;
    t->ti = NULL;
    flow_table_expire(t->ft, p->ts_ns);
    if (!pr->tracked)
        return;
    const struct pkt_tcp *tcp = &p->u.tcp;
    t->pkt = p;
    t->ti = ti;

    const struct flow_key *k = &pr->key;
    const bool rev = pr->rev;
    uint32_t slot = flow_table_find_hashed(t->ft, k, pr->hash);
    if (slot != FLOW_NONE) {
        if (lone_is(t, slot))
            lone_promote(t, slot);
        struct conn *old = &t->conns[slot];
        enum role sr = (rev ? 1 : 0) == old->client_key ? ROLE_CLIENT : ROLE_SERVER;
        if (is_reuse(old, sr, tcp)) {
            old->reused = 1;
            end_conn(t, slot, CONN_END_REUSED);
            flow_table_remove(t->ft, slot);
            slot = FLOW_NONE;
        }
    }
    struct conn *c;
    if (slot == FLOW_NONE)
        c = create_conn(t, k, rev, p, &slot);
    else if (!t->o.no_fast_path && fast_segment(t, slot, &t->conns[slot], rev, p, ti))
        return;
    else
        c = &t->conns[slot];

    struct seg s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.tcp = tcp;
    s.flags = tcp->flags;
    s.len = tcp->payload_len;
    s.sr = (rev ? 1 : 0) == c->client_key ? ROLE_CLIENT : ROLE_SERVER;
    s.rr = (enum role)(1 - s.sr);
    struct tcp_endpoint *S = &c->ep[s.sr], *R = &c->ep[s.rr];

    ti->conn = c;
    ti->sender = s.sr;
    c->last_ns = p->ts_ns;
    c->last_frame = p->n;
    S->packets++;
    if (s.len > S->max_payload)
        S->max_payload = s.len;

    /* 1. options, sequence and acknowledgment analysis */
    note_options(c, &s);
    analyse_data(t, c, &s);
    analyse_ack(t, c, &s);
    if (s.gap_seq)
        p->anomalies |= ANOMALY_BIT(ANOMALY_TCP_PREV_NOT_CAPTURED);
    if (s.gap_ack)
        p->anomalies |= ANOMALY_BIT(ANOMALY_TCP_ACKED_UNSEEN);
    if (R->has_mss && s.len > 0 && s.len + (uint32_t)(tcp->doff - 20) > R->mss) {
        S->above_mss++;
        ti->above_mss = true;
        ti->peer_mss = R->mss;
    }
    if (s.flags & TCP_SYN)
        S->syn_seen = 1;

    /* 2. state machines: the sender (what it sent), then the receiver (what it got) */
    if (s.flags & TCP_RST)
        s.rst_ok = rst_acceptable(t, c, &s);
    enum tcp_state server_before = (enum tcp_state)c->ep[ROLE_SERVER].state;
    infer_midstream(t, c, &s);
    sender_transition(t, c, &s);
    receiver_transition(t, c, &s);
    S->seen = 1;
    if (s.len > 0)
        S->data_seen = 1;

    /* 3. the record: Zeek view, handshake, close, tcpdump numbering, timer class */
    struct zeek_seg zs = {
        .dir = s.sr,
        .flags = s.flags,
        .seq = tcp->seq,
        .len = s.len,
        .win = tcp->win,
        .retransmit = s.zeek_retransmit,
        .gap = s.gap_ack,
    };
    zeek_on_segment(c, &zs);
    note_handshake(t, c, &s, server_before);
    note_close(c, &s);
    seq_bases(c, &s, ti);
    enum flow_class cls = class_of(c);
    flow_table_touch(t->ft, slot, p->ts_ns, cls);
    if (c == &t->building) { /* a new record from a bare SYN: short form, or written out */
        if (lone_keep(t, slot, c))
            return; /* ti->conn stays t->building until the next packet */
        t->conns[slot] = *c;
        c = &t->conns[slot];
        ti->conn = c;
    }
    if (closed_or_unseen(&c->ep[0]) && closed_or_unseen(&c->ep[1]) &&
        (c->ep[0].state == TCPS_CLOSED || c->ep[1].state == TCPS_CLOSED))
        t->pending_end = slot; /* reported after this packet's line */
}

/* ---------------------------------------------------------------- end of input */

struct id_slot {
    uint64_t id;
    uint32_t slot;
};

static int cmp_id_slot(const void *a, const void *b)
{
    const struct id_slot *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

void tcp_tracker_finish(struct tcp_tracker *t)
{
    t->pkt = NULL;
    t->ti = NULL;
    if (t->pending_end != FLOW_NONE) {
        end_conn(t, t->pending_end, CONN_END_CLOSED);
        flow_table_remove(t->ft, t->pending_end);
        t->pending_end = FLOW_NONE;
    }
    uint32_t n = flow_table_count(t->ft);
    struct id_slot *list = n ? malloc(n * sizeof *list) : NULL;
    uint32_t m = 0;
    for (uint32_t s = 0; s < t->slots_seen && list; s++) {
        uint64_t id = lone_is(t, s) ? t->lone[s].id
                      : t->conns[s].ended ? 0 : t->conns[s].id;
        if (id && m < n)
            list[m++] = (struct id_slot){id, s};
    }
    if (list) {
        qsort(list, m, sizeof *list, cmp_id_slot);
        for (uint32_t i = 0; i < m; i++) {
            end_conn(t, list[i].slot, CONN_END_INPUT);
            flow_table_remove(t->ft, list[i].slot);
        }
        free(list);
    } else {
        for (uint32_t s = 0; s < t->slots_seen; s++) /* no memory to sort: slot order */
            if (lone_is(t, s) || (t->conns[s].id && !t->conns[s].ended)) {
                end_conn(t, s, CONN_END_INPUT);
                flow_table_remove(t->ft, s);
            }
    }
}

void tcp_tracker_stats(const struct tcp_tracker *t, struct tcp_tracker_stats *st)
{
    *st = t->st;
    flow_table_stats(t->ft, &st->flow);
}
