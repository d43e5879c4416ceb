/* trk.c - test harness for the tcp tracker (see trk.h). */
#include "tracker/trk.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---------------------------------------------------------------- callbacks */

static void record_event(struct trk *h, const struct tcp_event *e)
{
    if (h->n_ev >= TRK_MAX_EV)
        fail_msg("more than %d events", TRK_MAX_EV);
    h->ev[h->n_ev++] = (struct rec_ev){
        .frame = e->frame,
        .ts_ns = e->ts_ns,
        .conn = e->conn,
        .ep = (int)e->endpoint,
        .from = e->from,
        .to = e->to,
    };
}

static void on_event(void *ctx, const struct tcp_event *e)
{
    struct trk *h = ctx;
    h->n_cb_ev++;
    record_event(h, e);
}

static void on_conn_end(void *ctx, const struct conn *c, enum conn_end_reason why)
{
    struct trk *h = ctx;
    if (h->n_end >= TRK_MAX_END)
        fail_msg("more than %d connection records", TRK_MAX_END);
    h->ends[h->n_end] = *c;
    h->why[h->n_end] = why;
    h->n_end++;
}

/* ---------------------------------------------------------------- set-up */

void trk_open(struct trk *h, const struct tcp_tracker_opts *o)
{
    memset(h, 0, sizeof *h);
    if (o)
        h->o = *o;
    else
        tcp_tracker_default_opts(&h->o);
    struct tcp_tracker_out out = {.ctx = h, .event = on_event, .conn_end = on_conn_end};
    h->t = tcp_tracker_new(&h->o, &out);
    assert_non_null(h->t);
    h->family = 4;
    static const uint8_t ca[4] = {10, 0, 0, 1}, sa[4] = {10, 0, 0, 2};
    memcpy(h->addr[C], ca, 4);
    memcpy(h->addr[S], sa, 4);
    h->port[C] = 40000;
    h->port[S] = 80;
    h->win[C] = h->win[S] = 65535;
    h->wscale[C] = h->wscale[S] = -1;
    h->now = T0;
    h->step = 1 * MS;
}

void trk_close(struct trk *h)
{
    tcp_tracker_free(h->t);
    h->t = NULL;
}

/* ---------------------------------------------------------------- segments */

static uint8_t parse_flags(const char *f)
{
    uint8_t v = 0;
    for (; *f; f++) {
        switch (*f) {
        case 'S': v |= TCP_SYN; break;
        case 'F': v |= TCP_FIN; break;
        case 'R': v |= TCP_RST; break;
        case 'P': v |= TCP_PSH; break;
        case '.': v |= TCP_ACK; break;
        case 'E': v |= TCP_ECE; break;
        case 'W': v |= TCP_CWR; break;
        case 'U': v |= TCP_URG; break;
        default: fail_msg("bad flag letter '%c'", *f);
        }
    }
    return v;
}

struct packet *mk(struct trk *h, int dir, const char *flags, uint32_t seq, uint32_t ack,
                  uint32_t len)
{
    struct packet *p = &h->p;
    memset(p, 0, sizeof *p);
    int peer = 1 - dir;
    p->l3 = h->family == 6 ? L3_IPV6 : L3_IPV4;
    p->ip.version = (uint8_t)h->family;
    p->ip.proto = 6;
    p->ip.ttl = 64;
    memcpy(p->ip.src, h->addr[dir], 16);
    memcpy(p->ip.dst, h->addr[peer], 16);
    p->l4 = L4_TCP;
    p->tcp_valid = true;
    struct pkt_tcp *t = &p->u.tcp;
    t->sport = h->port[dir];
    t->dport = h->port[peer];
    t->seq = seq;
    t->ack = ack;
    t->flags = parse_flags(flags);
    if (!(t->flags & TCP_ACK))
        t->ack = 0;
    t->win = h->win[dir];
    uint32_t optlen = 0;
    if (t->flags & TCP_SYN) {
        if (h->mss[dir]) {
            t->o.present |= TCPO_MSS;
            t->o.mss = h->mss[dir];
            optlen += 4;
        }
        if (h->wscale[dir] >= 0) {
            t->o.present |= TCPO_WSCALE;
            t->o.wscale = (uint8_t)h->wscale[dir];
            optlen += 4; /* NOP + 3 */
        }
    } else if (h->optlen[dir]) {
        t->o.present |= TCPO_TS;
        optlen = h->optlen[dir];
    }
    t->opts_len = (uint8_t)optlen;
    t->doff = (uint8_t)(20 + optlen);
    t->payload_len = len;
    t->payload_caplen = len;
    uint32_t iphl = h->family == 6 ? 40 : 20;
    p->ip.hdr_len = (uint16_t)iphl;
    p->ip.total_len = iphl + t->doff + len;
    p->len = p->caplen = 14 + p->ip.total_len;
    return p;
}

uint64_t feed(struct trk *h)
{
    h->p.n = ++h->frame;
    h->p.ts_ns = h->now;
    h->now += h->step;
    tcp_tracker_on_packet(h->t, &h->p, &h->ti);
    for (uint8_t i = 0; i < h->ti.n_events; i++)
        record_event(h, &h->ti.events[i]);
    return h->frame;
}

uint64_t seg(struct trk *h, int dir, const char *flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    mk(h, dir, flags, seq, ack, len);
    return feed(h);
}

uint64_t other(struct trk *h)
{
    struct packet *p = &h->p;
    memset(p, 0, sizeof *p);
    p->l3 = L3_IPV4;
    p->ip.version = 4;
    p->ip.proto = 17;
    p->l4 = L4_UDP;
    p->u.udp.sport = 53;
    p->u.udp.dport = 53;
    return feed(h);
}

void trk_finish(struct trk *h)
{
    tcp_tracker_finish(h->t);
}

void handshake(struct trk *h, uint32_t ci, uint32_t si)
{
    seg(h, C, "S", ci, 0, 0);
    seg(h, S, "S.", si, ci + 1, 0);
    seg(h, C, ".", ci + 1, si + 1, 0);
}

/* ---------------------------------------------------------------- queries */

const struct conn *cur(const struct trk *h)
{
    return h->ti.conn;
}

const struct conn *ended(const struct trk *h, uint64_t id)
{
    for (size_t i = 0; i < h->n_end; i++)
        if (h->ends[i].id == id)
            return &h->ends[i];
    return NULL;
}

enum conn_end_reason ended_why(const struct trk *h, uint64_t id)
{
    for (size_t i = 0; i < h->n_end; i++)
        if (h->ends[i].id == id)
            return h->why[i];
    fail_msg("connection %llu has not ended", (unsigned long long)id);
    return CONN_END_INPUT;
}

bool has_anomaly(const struct trk *h, enum anomaly a)
{
    return (h->p.anomalies & ANOMALY_BIT(a)) != 0;
}

/* ---------------------------------------------------------------- assertions */

static const char *who(int ep)
{
    return ep == C ? "C" : "S";
}

void check_events(const struct trk *h, uint64_t conn, const struct xev *want, size_t n,
                  const char *file, int line)
{
    const struct rec_ev *got[TRK_MAX_EV];
    size_t m = 0;
    for (size_t i = 0; i < h->n_ev; i++)
        if (conn == 0 || h->ev[i].conn == conn)
            got[m++] = &h->ev[i];
    bool same = m == n;
    for (size_t i = 0; same && i < n; i++)
        same = got[i]->frame == want[i].frame && got[i]->ep == want[i].ep &&
               got[i]->from == want[i].from && got[i]->to == want[i].to;
    if (same)
        return;
    print_error("events of conn %llu differ\n  got:\n", (unsigned long long)conn);
    for (size_t i = 0; i < m; i++)
        print_error("    f%-3llu %s %s -> %s\n", (unsigned long long)got[i]->frame, who(got[i]->ep),
                    tcp_state_name(got[i]->from), tcp_state_name(got[i]->to));
    print_error("  want:\n");
    for (size_t i = 0; i < n; i++)
        print_error("    f%-3llu %s %s -> %s\n", (unsigned long long)want[i].frame, who(want[i].ep),
                    tcp_state_name(want[i].from), tcp_state_name(want[i].to));
    _fail(file, line);
}

void check_states(const struct conn *c, enum tcp_state cs, enum tcp_state ss, const char *file,
                  int line)
{
    if (!c) {
        print_error("no connection\n");
        _fail(file, line);
        return;
    }
    if (c->ep[C].state == cs && c->ep[S].state == ss)
        return;
    print_error("states got C=%s S=%s, want C=%s S=%s\n", tcp_state_name(c->ep[C].state),
                tcp_state_name(c->ep[S].state), tcp_state_name(cs), tcp_state_name(ss));
    _fail(file, line);
}

void check_zeek(const struct conn *c, const char *history, const char *state, const char *file,
                int line)
{
    if (!c) {
        print_error("no connection\n");
        _fail(file, line);
        return;
    }
    const char *st = conn_state_zeek(c);
    if (strcmp(c->history, history) == 0 && strcmp(st, state) == 0)
        return;
    print_error("zeek got history '%s' conn_state %s, want '%s' %s\n", c->history, st, history,
                state);
    _fail(file, line);
}
