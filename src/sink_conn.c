/* sink_conn.c - the connection log (-o conn): a header line, then one tab-separated
 * line per connection, Zeek's conn.log columns first, synack's own after them.
 *
 * Pipeline place: tcp tracker -> [conn sink].  A line is written as each connection
 * ends (conn_end), so rows come in the order connections end, as in Zeek.  Unset
 * values are "-" (Zeek's unset_field); booleans are T/F.  As Zeek does, duration,
 * orig_bytes and resp_bytes are unset when the duration is 0.  Columns are part of the
 * documented interface (README "Connection log").
 */
#include <stdlib.h>

#include "outbuf.h"
#include "synack/sink.h"

struct conn_sink {
    struct sink base;
    struct sink_opts o;
    struct outbuf out; /* last: large */
};

static const char header[] =
    "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes\t"
    "resp_bytes\tconn_state\tmissed_bytes\thistory\torig_pkts\tresp_pkts\thandshake\t"
    "rtt_syn_synack_ms\trtt_synack_ack_ms\tclose\tactive_closer\tclient_state\tserver_state\t"
    "max_payload_orig\tmss_resp\tmax_payload_resp\tmss_orig\tretransmits_orig\t"
    "retransmits_resp\treused\tmidstream\n";

/* ns as decimal seconds with 6 digits (truncated toward minus infinity, as Zeek's %.6f
 * of an integer-microsecond time would show it). */
static void put_seconds(struct outbuf *b, int64_t ns)
{
    int64_t us = ns / 1000;
    if (ns < 0 && ns % 1000)
        us--;
    if (us < 0) {
        outbuf_putc(b, '-');
        us = -us;
    }
    outbuf_u64(b, (uint64_t)us / 1000000);
    outbuf_putc(b, '.');
    outbuf_u64w(b, (uint64_t)us % 1000000, 6);
}

/* ns as milliseconds with 6 decimals (exact for nanosecond times). */
static void put_ms(struct outbuf *b, int64_t ns)
{
    if (ns < 0) {
        outbuf_putc(b, '-');
        ns = -ns;
    }
    outbuf_u64(b, (uint64_t)ns / 1000000);
    outbuf_putc(b, '.');
    outbuf_u64w(b, (uint64_t)ns % 1000000, 6);
}

static void tab(struct outbuf *b)
{
    outbuf_putc(b, '\t');
}

static void put_str(struct outbuf *b, const char *s)
{
    tab(b);
    outbuf_puts(b, s && s[0] ? s : "-");
}

static void put_u64(struct outbuf *b, uint64_t v)
{
    tab(b);
    outbuf_u64(b, v);
}

static void put_mss(struct outbuf *b, const struct tcp_endpoint *e)
{
    tab(b);
    if (e->has_mss)
        outbuf_u64(b, e->mss);
    else
        outbuf_putc(b, '-');
}

static void conn_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    (void)s;
    (void)p;
    (void)ti;
}

static void conn_event(struct sink *s, const struct tcp_event *e)
{
    (void)s;
    (void)e;
}

static void conn_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    (void)why;
    struct conn_sink *k = (struct conn_sink *)s;
    if (k->o.conn && c->id != k->o.conn)
        return;
    struct outbuf *b = &k->out;
    const struct tcp_endpoint *ce = &c->ep[ROLE_CLIENT], *se = &c->ep[ROLE_SERVER];
    int64_t dur = c->last_ns - c->first_ns;

    put_seconds(b, c->first_ns);
    tab(b);
    outbuf_putc(b, 'C');
    outbuf_u64(b, c->id);
    tab(b);
    outbuf_addr(b, c->family, ce->addr);
    put_u64(b, ce->port);
    tab(b);
    outbuf_addr(b, c->family, se->addr);
    put_u64(b, se->port);
    put_str(b, "tcp");
    if (dur > 0) {
        tab(b);
        put_seconds(b, dur);
        put_u64(b, tcp_endpoint_bytes(ce));
        put_u64(b, tcp_endpoint_bytes(se));
    } else {
        outbuf_puts(b, "\t-\t-\t-");
    }
    put_str(b, conn_state_zeek(c));
    put_u64(b, ce->bytes_missed + se->bytes_missed);
    put_str(b, c->history);
    put_u64(b, ce->packets);
    put_u64(b, se->packets);
    put_str(b, handshake_kind_name((enum handshake_kind)c->handshake));
    tab(b);
    if (c->syn_ns && c->synack_ns)
        put_ms(b, c->synack_ns - c->syn_ns);
    else
        outbuf_putc(b, '-');
    tab(b);
    if (c->synack_ns && c->ack_ns)
        put_ms(b, c->ack_ns - c->synack_ns);
    else
        outbuf_putc(b, '-');
    put_str(b, close_kind_name((enum close_kind)c->close));
    put_str(b, conn_active_closer(c));
    put_str(b, tcp_state_name((enum tcp_state)ce->state));
    put_str(b, tcp_state_name((enum tcp_state)se->state));
    put_u64(b, ce->max_payload);
    put_mss(b, se);
    put_u64(b, se->max_payload);
    put_mss(b, ce);
    put_u64(b, ce->retransmits);
    put_u64(b, se->retransmits);
    put_str(b, c->reused ? "T" : "F");
    put_str(b, c->midstream ? "T" : "F");
    outbuf_putc(b, '\n');
    if (k->o.live)
        outbuf_flush(b);
    else
        outbuf_maybe_flush(b);
}

static void conn_finish(struct sink *s, const struct run_totals *t)
{
    (void)t;
    struct conn_sink *k = (struct conn_sink *)s;
    outbuf_flush(&k->out);
}

static void conn_destroy(struct sink *s)
{
    struct conn_sink *k = (struct conn_sink *)s;
    outbuf_flush(&k->out);
    free(k);
}

static const struct sink_ops conn_ops = {
    .packet = conn_packet,
    .event = conn_event,
    .conn_end = conn_conn_end,
    .finish = conn_finish,
    .destroy = conn_destroy,
};

struct sink *sink_conn_new(const struct sink_opts *o)
{
    struct conn_sink *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->base.ops = &conn_ops;
    k->o = *o;
    outbuf_init(&k->out, o->fd);
    outbuf_puts(&k->out, header); /* first, even when no connection follows */
    if (o->live)
        outbuf_flush(&k->out);
    return &k->base;
}
