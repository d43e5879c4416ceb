/* pipeline.c - the per-packet loop: source -> decode -> tracker -> sinks (see pipeline.h). */
#include "synack/pipeline.h"

#include <stdio.h>
#include <string.h>

static void pl_event(void *ctx, const struct tcp_event *e)
{
    struct pipeline *pl = ctx;
    for (unsigned i = 0; i < pl->n_sinks; i++)
        pl->sinks[i]->ops->event(pl->sinks[i], e);
}

static void pl_conn_end(void *ctx, const struct conn *c, enum conn_end_reason why)
{
    struct pipeline *pl = ctx;
    for (unsigned i = 0; i < pl->n_sinks; i++)
        pl->sinks[i]->ops->conn_end(pl->sinks[i], c, why);
}

int pipeline_init(struct pipeline *pl, struct source *src, const struct tcp_tracker_opts *to,
                  char *err, size_t errlen)
{
    memset(pl, 0, sizeof *pl);
    pl->src = src;
    pl->dlt = src ? source_datalink(src) : SYNACK_DLT_EN10MB;
    if (to) {
        struct tcp_tracker_out out = {.ctx = pl, .event = pl_event, .conn_end = pl_conn_end};
        pl->trk = tcp_tracker_new(to, &out);
        if (!pl->trk) {
            snprintf(err, errlen, "out of memory for %u connections (lower --max-conns)",
                     to->max_conns);
            return -1;
        }
    }
    return 0;
}

void pipeline_add_sink(struct pipeline *pl, struct sink *s)
{
    if (s && pl->n_sinks < PIPELINE_MAX_SINKS)
        pl->sinks[pl->n_sinks++] = s;
}

static void count(struct run_totals *t, const struct packet *p)
{
    t->packets++;
    t->bytes += p->len;
    switch (p->l3) {
    case L3_IPV4:
    case L3_IPV6:
        switch (p->l4) {
        case L4_TCP: t->tcp++; break;
        case L4_UDP: t->udp++; break;
        case L4_ICMP:
        case L4_ICMPV6: t->icmp++; break;
        default: t->other_ip++; break;
        }
        break;
    default:
        t->non_ip++;
        break;
    }
    if (p->snap_truncated)
        t->snap_truncated++;
    if (p->l4 == L4_TCP && p->tcp_valid) {
        t->tcp_cksum_bad += p->u.tcp.cksum == CKSUM_BAD;
        t->tcp_cksum_unverified += p->u.tcp.cksum == CKSUM_UNVERIFIED;
    }
}

static void count_anomalies(struct run_totals *t, anomaly_set a)
{
    if (!a)
        return;
    t->with_anomalies++;
    while (a) {
        unsigned i = (unsigned)__builtin_ctzll(a);
        t->anomalies[i]++;
        a &= a - 1;
    }
}

/* The rest of a frame's way once it is decoded: tracker, totals, sinks, events. */
static void frame_decoded(struct pipeline *pl, struct packet *p, const struct tcp_prep *pr)
{
    count(&pl->totals, p);
    struct track_info ti;
    ti.conn = NULL;
    ti.n_events = 0;
    if (pl->trk) {
        if (pr)
            tcp_tracker_on_prepared(pl->trk, p, pr, &ti);
        else
            tcp_tracker_on_packet(pl->trk, p, &ti);
    }
    count_anomalies(&pl->totals, p->anomalies);
    for (unsigned i = 0; i < pl->n_sinks; i++)
        pl->sinks[i]->ops->packet(pl->sinks[i], p, &ti);
    for (unsigned e = 0; e < ti.n_events; e++)
        pl_event(pl, &ti.events[e]);
}

void pipeline_frame(struct pipeline *pl, uint64_t n, int64_t ts_ns, const uint8_t *data,
                    uint32_t caplen, uint32_t len)
{
    struct packet p;
    p.n = n;
    p.ts_ns = ts_ns;
    decode_packet_ex(&p, pl->dlt, data, caplen, len, pl->decode_flags);
    frame_decoded(pl, &p, NULL);
}

/* A batch of frames read together (all valid until the next read).  Decoding is pure and
 * the tracker's look-ahead only asks the CPU for memory, so the frames are decoded and
 * their connections' memory requested first, then each is processed in order exactly
 * as pipeline_frame() would: the cache misses of a batch overlap instead of queueing. */
static void pipeline_batch(struct pipeline *pl, const struct source_pkt *sp, unsigned n)
{
    struct packet p[SOURCE_BATCH_MAX];
    struct tcp_prep pr[SOURCE_BATCH_MAX];
    uint64_t first = pl->totals.packets + 1;
    for (unsigned i = 0; i < n; i++) {
        p[i].n = first + i;
        p[i].ts_ns = sp[i].ts_ns;
        decode_packet_ex(&p[i], pl->dlt, sp[i].data, sp[i].caplen, sp[i].len,
                         pl->decode_flags);
        if (pl->trk)
            tcp_tracker_prepare(pl->trk, &p[i], &pr[i]);
    }
    if (pl->trk) {
        for (unsigned i = 0; i < n; i++)
            tcp_tracker_prefetch(pl->trk, &pr[i]);
        for (unsigned i = 0; i < n; i++)
            tcp_tracker_prefetch_links(pl->trk, &pr[i]);
    }
    for (unsigned i = 0; i < n; i++)
        frame_decoded(pl, &p[i], pl->trk ? &pr[i] : NULL);
}

int pipeline_run(struct pipeline *pl, char *err, size_t errlen)
{
    struct source_pkt sp[SOURCE_BATCH_MAX];
    for (;;) {
        unsigned max = SOURCE_BATCH_MAX, n = 0;
        if (pl->max_packets) {
            if (pl->totals.packets >= pl->max_packets)
                return 0;
            if (pl->max_packets - pl->totals.packets < max)
                max = (unsigned)(pl->max_packets - pl->totals.packets);
        }
        int rc = source_next_batch(pl->src, sp, max, &n, err, errlen);
        if (rc == 1) {
            pipeline_batch(pl, sp, n);
            continue;
        }
        if (rc == 2)
            return 2; /* non-blocking live source: nothing waiting now */
        if (rc == -2) {
            pl->totals.interrupted = true;
            return 0;
        }
        if (rc == 0)
            return 0;
        pl->totals.truncated_input = true;
        return -1;
    }
}

void pipeline_finish(struct pipeline *pl)
{
    if (pl->trk) {
        tcp_tracker_finish(pl->trk);
        tcp_tracker_stats(pl->trk, &pl->totals.trk);
    }
    if (pl->src)
        source_stats(pl->src, &pl->totals.src);
    for (unsigned i = 0; i < pl->n_sinks; i++)
        pl->sinks[i]->ops->finish(pl->sinks[i], &pl->totals);
    for (unsigned i = 0; i < pl->n_sinks; i++)
        pl->sinks[i]->ops->destroy(pl->sinks[i]);
    pl->n_sinks = 0;
    if (pl->trk)
        tcp_tracker_free(pl->trk);
    pl->trk = NULL;
}
