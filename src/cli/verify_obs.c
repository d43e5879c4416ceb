/* verify_obs.c - the verify observer: a sink that keeps, per connection, the facts the
 * checks judge (handshake segments, FINs, RSTs, their acknowledgments, data, segment
 * sizes against the MSS, gaps, states) with the frame numbers that prove them, and
 * feeds the bounded stream store (the bytes, for the echo check).
 *
 * Pipeline place: tcp tracker -> [verify observer] -> verify_checks.c.
 * Memory: one struct vconn per connection (no per-segment memory); payload goes to
 * the stream store's temporary file.
 */
#include <stdlib.h>
#include <string.h>

#include "verify.h"

/* Index of the first connection with an id >= id. */
static size_t lower_bound(const struct vobs *o, uint64_t id)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->conns[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct vconn *vobs_conn(struct vobs *o, uint64_t id)
{
    size_t i = lower_bound(o, id);
    return i < o->n && o->conns[i].id == id ? &o->conns[i] : NULL;
}

/* The record of connection id, made when new (new ids normally come last). */
static struct vconn *make(struct vobs *o, uint64_t id)
{
    size_t i = lower_bound(o, id);
    if (i < o->n && o->conns[i].id == id)
        return &o->conns[i];
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        struct vconn *n = realloc(o->conns, cap * sizeof *n);
        if (!n)
            return NULL;
        o->conns = n;
        o->cap = cap;
    }
    memmove(&o->conns[i + 1], &o->conns[i], (o->n - i) * sizeof *o->conns);
    o->n++;
    memset(&o->conns[i], 0, sizeof o->conns[i]);
    o->conns[i].id = id;
    if (id > o->max_id)
        o->max_id = id;
    return &o->conns[i];
}

/* Does the packet touch one of the hosts the observer is limited to? */
static bool wanted(const struct vobs *o, const struct packet *p)
{
    if (!o->hosts)
        return true;
    for (size_t i = 0; i < o->n_hosts; i++)
        if (o->hosts[i][0] == p->ip.version && (memcmp(o->hosts[i] + 1, p->ip.src, 16) == 0 ||
                                                memcmp(o->hosts[i] + 1, p->ip.dst, 16) == 0))
            return true;
    return false;
}

/* Which direction the tracker's endpoint of role r is. */
static unsigned dir_of_role(const struct vconn *vc, enum role r)
{
    return r == ROLE_CLIENT ? vc->client_dir : (unsigned)(vc->client_dir ^ 1);
}

static void sync_states(struct vconn *vc, const struct conn *c)
{
    vc->client_dir = (c->ep[ROLE_CLIENT].port == vc->port[0] &&
                      memcmp(c->ep[ROLE_CLIENT].addr, vc->addr[0], 16) == 0)
                         ? 0
                         : 1;
    vc->d[dir_of_role(vc, ROLE_CLIENT)].state = c->ep[ROLE_CLIENT].state;
    vc->d[dir_of_role(vc, ROLE_SERVER)].state = c->ep[ROLE_SERVER].state;
}

/* MSS the receiver announced (RFC 9293 default when its SYN had none); 0 unknown. */
static uint32_t receiver_mss(const struct vconn *vc, const struct vdir *r)
{
    if (r->has_mss)
        return r->mss;
    if (r->syn_frame || r->synack_frame)
        return vc->family == 6 ? 1220u : 536u;
    return 0;
}

static void obs_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    struct vobs *o = (struct vobs *)s;
    o->frames = p->n;
    o->last_ts = p->ts_ns;
    if (p->snap_truncated)
        o->snap_truncated++;
    if (!ti || !ti->conn || !p->tcp_valid || p->l4 != L4_TCP || !wanted(o, p))
        return;
    if (o->streams)
        stream_store_packet(o->streams, p, ti);
    const struct conn *c = ti->conn;
    struct vconn *vc = make(o, c->id);
    if (!vc)
        return;
    const struct pkt_tcp *t = &p->u.tcp;
    if (!vc->seen) {
        vc->seen = true;
        vc->family = p->ip.version;
        memcpy(vc->addr[0], p->ip.src, 16);
        memcpy(vc->addr[1], p->ip.dst, 16);
        vc->port[0] = t->sport;
        vc->port[1] = t->dport;
        vc->first_frame = p->n;
        vc->first_ts = p->ts_ns;
    }
    vc->last_frame = p->n;
    vc->last_ts = p->ts_ns;
    unsigned dir = (t->sport == vc->port[0] && memcmp(p->ip.src, vc->addr[0], 16) == 0) ? 0 : 1;
    struct vdir *D = &vc->d[dir], *P = &vc->d[dir ^ 1];
    D->packets++;
    uint8_t f = t->flags;
    if ((f & TCP_SYN) && !(f & TCP_ACK)) {
        if (!D->syn_frame) {
            D->syn_frame = p->n;
            D->syn_seq = t->seq;
            D->syn_ts = p->ts_ns;
        }
    } else if ((f & TCP_SYN) && (f & TCP_ACK)) {
        if (!D->synack_frame) {
            D->synack_frame = p->n;
            D->synack_seq = t->seq;
            D->synack_ack = t->ack;
            D->synack_ts = p->ts_ns;
        }
    } else if ((f & TCP_ACK) && !(f & TCP_RST) && P->synack_frame && !D->hs_ack_frame) {
        D->hs_ack_frame = p->n;
        D->hs_ack_ack = t->ack;
    }
    if ((f & TCP_SYN) && (t->o.present & TCPO_MSS) && !D->has_mss) {
        D->has_mss = true;
        D->mss = t->o.mss;
    }
    if ((f & TCP_RST) && !D->rst_frame) {
        D->rst_frame = p->n;
        D->rst_ts = p->ts_ns;
        D->rst_flags = f;
    }
    if ((f & TCP_FIN) && !D->fin_frame) {
        D->fin_frame = p->n;
        D->fin_ts = p->ts_ns;
        D->fin_seq = t->seq + t->payload_len;
    }
    if ((f & TCP_ACK) && !(f & TCP_RST) && P->fin_frame && !P->fin_acked_frame &&
        (int32_t)(t->ack - (P->fin_seq + 1)) >= 0)
        P->fin_acked_frame = p->n;
    if (t->payload_len > 0) {
        if (!D->first_data_frame) {
            D->first_data_frame = p->n;
            D->first_data_ts = p->ts_ns;
        }
        D->last_data_frame = p->n;
        D->last_data_ts = p->ts_ns;
        if (P->fin_frame && P->fin_frame < p->n) {
            if (!D->data_after_peer_fin_frame)
                D->data_after_peer_fin_frame = p->n;
            D->data_after_peer_fin += t->payload_len;
        }
        uint32_t opt = t->doff > 20 ? (uint32_t)t->doff - 20u : 0u;
        uint32_t seg = t->payload_len + opt;
        if (seg > D->max_seg) {
            D->max_seg = seg;
            D->max_seg_opt = opt;
            D->max_seg_frame = p->n;
        }
        uint32_t rmss = receiver_mss(vc, P);
        if (rmss && seg > rmss) {
            D->above_mss++;
            if (t->payload_len > D->above_len) {
                D->above_len = t->payload_len;
                D->above_opt = opt;
                D->above_frame = p->n;
            }
        }
        if (t->payload_caplen < t->payload_len) {
            if (!D->trunc_frame)
                D->trunc_frame = p->n;
            D->truncated++;
        }
    }
    if (p->anomalies &
        (ANOMALY_BIT(ANOMALY_TCP_ACKED_UNSEEN) | ANOMALY_BIT(ANOMALY_TCP_PREV_NOT_CAPTURED))) {
        if (!D->gap_frame)
            D->gap_frame = p->n;
        D->gaps++;
    }
    sync_states(vc, c);
}

static void obs_event(struct sink *s, const struct tcp_event *e)
{
    struct vobs *o = (struct vobs *)s;
    struct vconn *vc = vobs_conn(o, e->conn);
    if (!vc)
        return;
    struct vdir *D = &vc->d[dir_of_role(vc, e->endpoint)];
    D->state = (uint8_t)e->to;
    if (e->to == TCPS_TIME_WAIT && !D->time_wait_frame)
        D->time_wait_frame = e->frame;
    if (e->to == TCPS_CLOSE_WAIT && !D->close_wait_frame)
        D->close_wait_frame = e->frame;
}

static void obs_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    (void)why;
    struct vobs *o = (struct vobs *)s;
    struct vconn *vc = vobs_conn(o, c->id);
    if (!vc)
        return;
    vc->ended = true;
    sync_states(vc, c);
}

static void obs_finish(struct sink *s, const struct run_totals *t)
{
    struct vobs *o = (struct vobs *)s;
    o->totals = *t;
    o->finished = true;
}

static void obs_destroy(struct sink *s)
{
    (void)s; /* owned by struct verify: vobs_free */
}

static const struct sink_ops obs_ops = {
    .packet = obs_packet,
    .event = obs_event,
    .conn_end = obs_conn_end,
    .finish = obs_finish,
    .destroy = obs_destroy,
};

int vobs_init(struct vobs *o)
{
    memset(o, 0, sizeof *o);
    o->base.ops = &obs_ops;
    o->streams = stream_store_new(STREAM_DEFAULT_MAX, 0);
    return o->streams ? 0 : -1;
}

void vobs_free(struct vobs *o)
{
    stream_store_free(o->streams);
    free(o->conns);
    o->streams = NULL;
    o->conns = NULL;
    o->n = o->cap = 0;
}
