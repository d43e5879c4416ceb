/* sink_json.c - NDJSON output: one object per line, a "type" on every object.
 *
 * Pipeline place: tcp tracker -> [json sink].  Types: "packet", "event", "conn",
 * "totals".  Sequence numbers are absolute; times are integer epoch nanoseconds
 * ("ts_ns") with an ISO-8601 UTC string ("ts") beside them.  Field names are part of
 * the documented interface (README "Output formats").
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"
#include "synack/sink.h"
#include "textfmt.h"
#include "timefmt.h"

struct json_sink {
    struct sink base;
    struct sink_opts o;
    struct outbuf out;
};

static void key(struct outbuf *b, const char *k)
{
    outbuf_putc(b, ',');
    outbuf_putc(b, '"');
    outbuf_puts(b, k);
    outbuf_puts(b, "\":");
}

static void key_u64(struct outbuf *b, const char *k, uint64_t v)
{
    key(b, k);
    outbuf_u64(b, v);
}

static void key_str(struct outbuf *b, const char *k, const char *v)
{
    key(b, k);
    if (v)
        outbuf_json_str(b, v, strlen(v));
    else
        outbuf_puts(b, "null");
}

static void key_bool(struct outbuf *b, const char *k, bool v)
{
    key(b, k);
    outbuf_puts(b, v ? "true" : "false");
}

static void key_addr(struct outbuf *b, const char *k, int family, const uint8_t *a)
{
    key(b, k);
    outbuf_putc(b, '"');
    outbuf_addr(b, family, a);
    outbuf_putc(b, '"');
}

static void put_time(struct outbuf *b, const char *k_ns, const char *k_iso, int64_t ts)
{
    key(b, k_ns);
    outbuf_i64(b, ts);
    key(b, k_iso);
    outbuf_putc(b, '"');
    timefmt_iso_utc(b, ts);
    outbuf_putc(b, '"');
}

static void end_line(struct json_sink *j)
{
    outbuf_puts(&j->out, "}\n");
    if (j->o.live)
        outbuf_flush(&j->out);
    else
        outbuf_maybe_flush(&j->out);
}

static void put_opts(struct outbuf *b, const struct tcp_opts *o)
{
    key(b, "opts");
    outbuf_putc(b, '{');
    const char *sep = "";
    if (o->present & TCPO_MSS) {
        outbuf_puts(b, "\"mss\":");
        outbuf_u64(b, o->mss);
        sep = ",";
    }
    if (o->present & TCPO_WSCALE) {
        outbuf_puts(b, sep);
        outbuf_puts(b, "\"wscale\":");
        outbuf_u64(b, o->wscale);
        sep = ",";
    }
    if (o->present & TCPO_SACK_PERM) {
        outbuf_puts(b, sep);
        outbuf_puts(b, "\"sack_perm\":true");
        sep = ",";
    }
    if (o->present & TCPO_TS) {
        outbuf_puts(b, sep);
        outbuf_puts(b, "\"ts\":[");
        outbuf_u64(b, o->ts_val);
        outbuf_putc(b, ',');
        outbuf_u64(b, o->ts_ecr);
        outbuf_putc(b, ']');
        sep = ",";
    }
    if ((o->present & TCPO_SACK) && o->n_sack) {
        outbuf_puts(b, sep);
        outbuf_puts(b, "\"sack\":[");
        for (unsigned i = 0; i < o->n_sack; i++) {
            outbuf_puts(b, i ? ",[" : "[");
            outbuf_u64(b, o->sack[i][0]);
            outbuf_putc(b, ',');
            outbuf_u64(b, o->sack[i][1]);
            outbuf_putc(b, ']');
        }
        outbuf_putc(b, ']');
        sep = ",";
    }
    if (o->present & TCPO_TFO) {
        outbuf_puts(b, sep);
        outbuf_puts(b, "\"tfo\":true");
    }
    outbuf_putc(b, '}');
}

static const char *cksum_name(enum cksum_state c)
{
    switch (c) {
    case CKSUM_OK: return "ok";
    case CKSUM_BAD: return "bad";
    case CKSUM_UNVERIFIED: return "unverified";
    default: return "unchecked";
    }
}

static const char *l4_name(const struct packet *p)
{
    switch (p->l4) {
    case L4_TCP: return "tcp";
    case L4_UDP: return "udp";
    case L4_ICMP: return "icmp";
    case L4_ICMPV6: return "icmp6";
    default: return NULL;
    }
}

static void json_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    struct json_sink *j = (struct json_sink *)s;
    if (!(j->o.mode & SINK_PACKETS))
        return;
    struct outbuf *b = &j->out;
    outbuf_puts(b, "{\"type\":\"packet\"");
    key_u64(b, "n", p->n);
    put_time(b, "ts_ns", "ts", p->ts_ns);
    key_u64(b, "caplen", p->caplen);
    key_u64(b, "len", p->len);
    if (p->l3 == L3_IPV4 || p->l3 == L3_IPV6) {
        key_addr(b, "src", p->ip.version, p->ip.src);
        key_addr(b, "dst", p->ip.version, p->ip.dst);
        key_u64(b, "ip_version", p->ip.version);
        const char *l4 = l4_name(p);
        key(b, "proto");
        if (l4) {
            outbuf_putc(b, '"');
            outbuf_puts(b, l4);
            outbuf_putc(b, '"');
        } else {
            outbuf_puts(b, "\"ip-proto-");
            outbuf_u64(b, p->ip.proto);
            outbuf_putc(b, '"');
        }
        if (p->ip.fragment)
            key_bool(b, "fragment", true);
    } else {
        key_str(b, "proto", p->l3 == L3_OTHER ? "non-ip" : "unknown");
        if (p->l3 == L3_OTHER)
            key_u64(b, "ethertype", p->link.ethertype);
    }
    if (p->l4 == L4_TCP && p->tcp_valid) {
        const struct pkt_tcp *t = &p->u.tcp;
        char fl[10];
        textfmt_flag_letters(fl, t->flags);
        key_u64(b, "sport", t->sport);
        key_u64(b, "dport", t->dport);
        key_str(b, "flags", fl);
        key_u64(b, "seq", t->seq);
        key_u64(b, "ack", t->ack);
        key_u64(b, "win", t->win);
        key_u64(b, "tcp_len", t->payload_len);
        put_opts(b, &t->o);
        key_str(b, "cksum", cksum_name(t->cksum));
        if (ti && ti->conn)
            key_u64(b, "conn", ti->conn->id);
    } else if (p->l4 == L4_UDP) {
        key_u64(b, "sport", p->u.udp.sport);
        key_u64(b, "dport", p->u.udp.dport);
        key_u64(b, "udp_len", p->u.udp.payload_len);
    } else if (p->l4 == L4_ICMP || p->l4 == L4_ICMPV6) {
        key_u64(b, "icmp_type", p->u.icmp.type);
        key_u64(b, "icmp_code", p->u.icmp.code);
    }
    if (p->snap_truncated)
        key_bool(b, "snap_truncated", true);
    key(b, "anomalies");
    outbuf_putc(b, '[');
    const char *sep = "";
    for (unsigned i = 0; i < ANOMALY_COUNT; i++) {
        if (p->anomalies & ANOMALY_BIT(i)) {
            outbuf_puts(b, sep);
            outbuf_putc(b, '"');
            outbuf_puts(b, anomaly_name((enum anomaly)i));
            outbuf_putc(b, '"');
            sep = ",";
        }
    }
    outbuf_putc(b, ']');
    if (ti && ti->conn) {
        static const struct {
            size_t off;
            const char *name;
        } notes[] = {
            {offsetof(struct track_info, retransmit), "retransmission"},
            {offsetof(struct track_info, fast_retransmit), "fast_retransmission"},
            {offsetof(struct track_info, out_of_order), "out_of_order"},
            {offsetof(struct track_info, dup_ack), "dup_ack"},
            {offsetof(struct track_info, keepalive), "keepalive"},
            {offsetof(struct track_info, window_probe), "window_probe"},
            {offsetof(struct track_info, zero_window), "zero_window"},
            {offsetof(struct track_info, above_mss), "above_mss"},
        };
        key(b, "analysis");
        outbuf_putc(b, '[');
        sep = "";
        for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
            if (*((const bool *)((const char *)ti + notes[i].off))) {
                outbuf_puts(b, sep);
                outbuf_putc(b, '"');
                outbuf_puts(b, notes[i].name);
                outbuf_putc(b, '"');
                sep = ",";
            }
        }
        outbuf_putc(b, ']');
    }
    end_line(j);
}

static void json_event(struct sink *s, const struct tcp_event *e)
{
    struct json_sink *j = (struct json_sink *)s;
    if (!(j->o.mode & SINK_EVENTS))
        return;
    struct outbuf *b = &j->out;
    outbuf_puts(b, "{\"type\":\"event\"");
    put_time(b, "ts_ns", "ts", e->ts_ns);
    key_u64(b, "n", e->frame);
    key_u64(b, "conn", e->conn);
    key_str(b, "endpoint", e->endpoint == ROLE_CLIENT ? "client" : "server");
    key_str(b, "from", tcp_state_name(e->from));
    key_str(b, "to", tcp_state_name(e->to));
    key_str(b, "cause", e->cause);
    end_line(j);
}

static void put_endpoint(struct outbuf *b, const char *name, const struct conn *c, int r)
{
    const struct tcp_endpoint *e = &c->ep[r];
    key(b, name);
    outbuf_putc(b, '{');
    outbuf_puts(b, "\"addr\":\"");
    outbuf_addr(b, c->family, e->addr);
    outbuf_putc(b, '"');
    key_u64(b, "port", e->port);
    key_str(b, "state", tcp_state_name((enum tcp_state)e->state));
    key_u64(b, "packets", e->packets);
    key_u64(b, "bytes", tcp_endpoint_bytes(e));
    key_u64(b, "missed_bytes", e->bytes_missed);
    key_u64(b, "max_payload", e->max_payload);
    key(b, "mss");
    if (e->has_mss)
        outbuf_u64(b, e->mss);
    else
        outbuf_puts(b, "null");
    key(b, "wscale");
    if (e->has_wscale)
        outbuf_u64(b, e->wscale);
    else
        outbuf_puts(b, "null");
    key_bool(b, "sack_perm", e->sack_perm);
    key_bool(b, "timestamps", e->has_ts);
    key_u64(b, "retransmits", e->retransmits);
    key_u64(b, "fast_retransmits", e->fast_retransmits);
    key_u64(b, "out_of_order", e->out_of_order);
    key_u64(b, "dup_acks", e->dup_acks);
    key_u64(b, "zero_windows", e->zero_windows);
    key_u64(b, "keepalives", e->keepalives);
    key_u64(b, "window_probes", e->window_probes);
    key_u64(b, "above_mss", e->above_mss);
    outbuf_putc(b, '}');
}

static const char *end_reason_name(enum conn_end_reason r)
{
    switch (r) {
    case CONN_END_CLOSED: return "closed";
    case CONN_END_IDLE: return "idle";
    case CONN_END_EVICTED: return "evicted";
    case CONN_END_REUSED: return "reused";
    default: return "end_of_input";
    }
}

static void json_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    struct json_sink *j = (struct json_sink *)s;
    if (!(j->o.mode & SINK_SUMMARY))
        return;
    struct outbuf *b = &j->out;
    outbuf_puts(b, "{\"type\":\"conn\"");
    key_u64(b, "id", c->id);
    put_time(b, "first_ts_ns", "first_ts", c->first_ns);
    put_time(b, "last_ts_ns", "last_ts", c->last_ns);
    key_u64(b, "duration_ns", (uint64_t)(c->last_ns - c->first_ns));
    key_bool(b, "midstream", c->midstream);
    key_bool(b, "reused", c->reused);
    key_str(b, "history", c->history);
    key_str(b, "conn_state", conn_state_zeek(c));
    put_endpoint(b, "client", c, ROLE_CLIENT);
    put_endpoint(b, "server", c, ROLE_SERVER);
    key_str(b, "handshake", handshake_kind_name((enum handshake_kind)c->handshake));
    key(b, "rtt_syn_synack_ns");
    if (c->syn_ns && c->synack_ns)
        outbuf_i64(b, c->synack_ns - c->syn_ns);
    else
        outbuf_puts(b, "null");
    key(b, "rtt_synack_ack_ns");
    if (c->synack_ns && c->ack_ns)
        outbuf_i64(b, c->ack_ns - c->synack_ns);
    else
        outbuf_puts(b, "null");
    key_str(b, "close", close_kind_name((enum close_kind)c->close));
    key_str(b, "active_closer", conn_active_closer(c));
    key_str(b, "end_reason", end_reason_name(why));
    key_u64(b, "first_frame", c->first_frame);
    key_u64(b, "last_frame", c->last_frame);
    end_line(j);
}

static void json_finish(struct sink *s, const struct run_totals *t)
{
    struct json_sink *j = (struct json_sink *)s;
    outbuf_flush(&j->out);
    j->out.lossy = false; /* the capture is over: the rest may wait for the reader */
    if (j->o.mode & SINK_TOTALS) {
        struct outbuf *b = &j->out;
        outbuf_puts(b, "{\"type\":\"totals\"");
        key_u64(b, "packets", t->packets);
        key_u64(b, "bytes", t->bytes);
        key_u64(b, "tcp", t->tcp);
        key_u64(b, "udp", t->udp);
        key_u64(b, "icmp", t->icmp);
        key_u64(b, "other_ip", t->other_ip);
        key_u64(b, "non_ip", t->non_ip);
        key_u64(b, "snap_truncated", t->snap_truncated);
        key_u64(b, "with_anomalies", t->with_anomalies);
        key(b, "anomalies");
        outbuf_putc(b, '{');
        const char *sep = "";
        for (unsigned i = 0; i < ANOMALY_COUNT; i++) {
            if (t->anomalies[i]) {
                outbuf_puts(b, sep);
                outbuf_putc(b, '"');
                outbuf_puts(b, anomaly_name((enum anomaly)i));
                outbuf_puts(b, "\":");
                outbuf_u64(b, t->anomalies[i]);
                sep = ",";
            }
        }
        outbuf_putc(b, '}');
        key_u64(b, "conns", t->trk.conns);
        key_u64(b, "conns_peak", t->trk.flow.peak);
        key_u64(b, "evicted", t->trk.ended_evicted);
        key_u64(b, "evicted_half_open", t->trk.flow.evicted_half_open);
        key_u64(b, "expired_idle", t->trk.ended_idle);
        key_u64(b, "reused", t->trk.ended_reused);
        key_u64(b, "tcp_cksum_bad", t->tcp_cksum_bad);
        key_u64(b, "tcp_cksum_unverified", t->tcp_cksum_unverified);
        if (t->src.live && t->src.have_kernel_stats) {
            key_u64(b, "received", t->src.received);
            key_u64(b, "dropped", t->src.dropped);
            key_u64(b, "ifdropped", t->src.ifdropped);
            key_bool(b, "inconclusive", t->src.dropped + t->src.ifdropped > 0);
        }
        key_bool(b, "interrupted", t->interrupted);
        key_u64(b, "output_dropped_lines", j->out.dropped_lines);
        end_line(j);
    }
    outbuf_flush(&j->out);
}

static void json_destroy(struct sink *s)
{
    struct json_sink *j = (struct json_sink *)s;
    outbuf_flush(&j->out);
    free(j);
}

static const struct sink_ops json_ops = {
    .packet = json_packet,
    .event = json_event,
    .conn_end = json_conn_end,
    .finish = json_finish,
    .destroy = json_destroy,
};

struct sink *sink_json_new(const struct sink_opts *o)
{
    struct json_sink *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->base.ops = &json_ops;
    j->o = *o;
    outbuf_init(&j->out, o->fd);
    j->out.lossy = o->live;
    return &j->base;
}
