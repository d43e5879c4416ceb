/* sink_ladder.c - the ASCII ladder diagram: client and server columns, time going
 * down, one arrow per segment, each endpoint's state written beside its column
 * whenever it changes.
 *
 * Pipeline place: tcp tracker -> [ladder sink].  Rows are rendered as packets arrive
 * and kept in a temporary file (memory stays flat), then printed at the end, one
 * diagram per connection in id order.  At most LADDER_MAX_ROWS segments are drawn
 * per connection; the rest are counted.  Fits 100 columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"
#include "spool.h"
#include "synack/sink.h"
#include "textfmt.h"

#define LADDER_MAX_ROWS 2000
#define STATE_W 12   /* width of a state column */
#define ARROW_W 50   /* width of the arrow between the two columns */
#define PREVIEW 16   /* payload bytes shown */

struct ladder_conn {
    uint8_t init[2];   /* state before the first change, per role (TCPS_COUNT: unseen) */
    uint8_t has_init[2];
    uint32_t rows;
    uint32_t dropped;
    int64_t last_ts;
};

struct ladder_sink {
    struct sink base;
    struct sink_opts o;
    struct spool rows;         /* key: connection id; order: 0 header, then the rows */
    struct ladder_conn *conns; /* by id */
    size_t cap_conns;
    struct outbuf out;
};

/* ---------------------------------------------------------------- colours */

enum { C_NONE, C_SYN, C_FIN, C_RST, C_DATA, C_STATE };

static const char *color_on(const struct ladder_sink *l, int c)
{
    if (!l->o.color)
        return "";
    switch (c) {
    case C_SYN: return "\x1b[32m";
    case C_FIN: return "\x1b[33m";
    case C_RST: return "\x1b[31m";
    case C_DATA: return "\x1b[36m";
    case C_STATE: return "\x1b[1m";
    default: return "";
    }
}

static const char *color_off(const struct ladder_sink *l)
{
    return l->o.color ? "\x1b[0m" : "";
}

static int seg_color(uint8_t f, uint32_t len)
{
    if (f & TCP_RST)
        return C_RST;
    if (f & TCP_SYN)
        return C_SYN;
    if (f & TCP_FIN)
        return C_FIN;
    return len ? C_DATA : C_NONE;
}

/* ---------------------------------------------------------------- row storage */

static struct ladder_conn *conn_slot(struct ladder_sink *l, uint64_t id)
{
    if (id >= l->cap_conns) {
        size_t cap = l->cap_conns ? l->cap_conns : 64;
        while (cap <= id)
            cap *= 2;
        struct ladder_conn *n = realloc(l->conns, cap * sizeof *n);
        if (!n)
            return NULL;
        memset(n + l->cap_conns, 0, (cap - l->cap_conns) * sizeof *n);
        l->conns = n;
        l->cap_conns = cap;
    }
    return &l->conns[id];
}

/* ---------------------------------------------------------------- rendering */

/* Append up to max bytes of payload as a quoted preview ("hello\n"). */
static size_t preview(char *out, size_t size, const uint8_t *d, uint32_t n, uint32_t max)
{
    size_t k = 0;
    if (size < 8)
        return 0;
    out[k++] = '"';
    for (uint32_t i = 0; i < n && i < max && k + 4 < size; i++) {
        uint8_t c = d[i];
        if (c == '\n') {
            out[k++] = '\\';
            out[k++] = 'n';
        } else if (c == '\r') {
            out[k++] = '\\';
            out[k++] = 'r';
        } else {
            out[k++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '.';
        }
    }
    if (n > max && k + 4 < size) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k++] = '"';
    out[k] = '\0';
    return k;
}

/* The label on an arrow: flags, relative seq range, ack, window on SYNs, preview. */
static void label(char *out, size_t size, const struct packet *p, const struct track_info *ti)
{
    const struct pkt_tcp *tcp = &p->u.tcp;
    const struct conn *c = ti->conn;
    const struct tcp_endpoint *S = &c->ep[ti->sender], *R = &c->ep[1 - ti->sender];
    char fl[12], pv[64] = "";
    textfmt_flags(fl, tcp->flags);
    uint32_t seq = tcp->seq - S->isn, ack = tcp->ack - R->isn;
    int n = snprintf(out, size, "[%s]", fl);
    if (tcp->payload_len > 0)
        n += snprintf(out + n, size - (size_t)n, " %u:%u", seq, seq + tcp->payload_len);
    else if (tcp->flags & (TCP_SYN | TCP_FIN | TCP_RST))
        n += snprintf(out + n, size - (size_t)n, " seq %u", seq);
    if ((tcp->flags & TCP_ACK) && (size_t)n < size)
        n += snprintf(out + n, size - (size_t)n, " ack %u", ack);
    if ((tcp->flags & TCP_SYN) && (size_t)n < size) {
        if (tcp->o.present & TCPO_MSS)
            n += snprintf(out + n, size - (size_t)n, " mss %u", tcp->o.mss);
        if ((tcp->o.present & TCPO_WSCALE) && (size_t)n < size)
            n += snprintf(out + n, size - (size_t)n, " ws %u", tcp->o.wscale);
    } else if (tcp->win == 0 && !(tcp->flags & TCP_RST) && (size_t)n < size) {
        n += snprintf(out + n, size - (size_t)n, " win 0");
    }
    if (tcp->payload_caplen > 0 && (size_t)n < size) {
        preview(pv, sizeof pv, tcp->payload, tcp->payload_caplen, PREVIEW);
        snprintf(out + n, size - (size_t)n, " %s", pv);
    }
}

/* Draw "|-label---->|" or "|<-label-----|" into out (ARROW_W + 2 chars). */
static size_t arrow(char *out, const char *lab, int to_server, const char *on, const char *off)
{
    char body[ARROW_W + 1];
    size_t room = ARROW_W - 3; /* head, tail, at least one dash */
    size_t ln = strlen(lab);
    char lb[ARROW_W];
    if (ln > room) {
        memcpy(lb, lab, room - 3);
        memcpy(lb + room - 3, "...", 3);
        ln = room;
    } else {
        memcpy(lb, lab, ln);
    }
    memset(body, '-', ARROW_W);
    body[ARROW_W] = '\0';
    if (to_server) {
        memcpy(body + 1, lb, ln);
        body[ARROW_W - 1] = '>';
    } else {
        body[0] = '<';
        memcpy(body + 2, lb, ln);
    }
    return (size_t)sprintf(out, "|%s%s%s|", on, body, off);
}

static void put_state(char *out, size_t *k, size_t size, const struct ladder_sink *l,
                      const char *state, int right)
{
    const char *on = state[0] ? color_on(l, C_STATE) : "";
    const char *off = state[0] ? color_off(l) : "";
    int n = right ? snprintf(out + *k, size - *k, " %s%-*s%s", on, STATE_W, state, off)
                  : snprintf(out + *k, size - *k, "%s%*s%s ", on, STATE_W, state, off);
    if (n > 0)
        *k += (size_t)n < size - *k ? (size_t)n : size - *k - 1;
}

static void ladder_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    struct ladder_sink *l = (struct ladder_sink *)s;
    if (!ti || !ti->conn)
        return;
    const struct conn *c = ti->conn;
    if (l->o.conn && c->id != l->o.conn)
        return;
    struct ladder_conn *lc = conn_slot(l, c->id);
    if (!lc)
        return;
    if (lc->rows >= LADDER_MAX_ROWS) {
        lc->dropped++;
        return;
    }
    const char *st[2] = {"", ""};
    for (unsigned i = 0; i < ti->n_events; i++) {
        const struct tcp_event *e = &ti->events[i];
        if (!lc->has_init[e->endpoint]) {
            lc->has_init[e->endpoint] = 1;
            lc->init[e->endpoint] = (uint8_t)e->from;
        }
        st[e->endpoint] = tcp_state_name(e->to);
    }
    /* an endpoint whose first sign is a segment without a state change */
    if (!lc->has_init[ti->sender]) {
        lc->has_init[ti->sender] = 1;
        lc->init[ti->sender] = c->ep[ti->sender].state;
    }
    const struct pkt_tcp *tcp = &p->u.tcp;
    char lab[160], row[512];
    label(lab, sizeof lab, p, ti);
    int col = seg_color(tcp->flags, tcp->payload_len);
    size_t k = 0;
    put_state(row, &k, sizeof row, l, st[ROLE_CLIENT], 0);
    k += arrow(row + k, lab, ti->sender == ROLE_CLIENT, color_on(l, col),
               col ? color_off(l) : "");
    put_state(row, &k, sizeof row, l, st[ROLE_SERVER], 1);
    double dt = lc->rows ? (double)(p->ts_ns - lc->last_ts) / 1e9 : 0.0;
    k += (size_t)snprintf(row + k, sizeof row - k, " %6llu %s%.6f\n", (unsigned long long)p->n,
                          lc->rows ? "+" : " ", dt);
    /* a second row for segments that fill the receiver's MSS, or go beyond it */
    const struct tcp_endpoint *R = &c->ep[1 - ti->sender];
    if (tcp->payload_len > 0 && R->has_mss) {
        uint32_t opt = (uint32_t)tcp->doff - 20, full = tcp->payload_len + opt;
        char note[96] = "";
        if (full == R->mss)
            snprintf(note, sizeof note, "len %u (+%u option bytes = MSS %u)", tcp->payload_len,
                     opt, R->mss);
        else if (full > R->mss)
            snprintf(note, sizeof note, "len %u > MSS %u: offload super-segment",
                     tcp->payload_len, R->mss);
        if (note[0])
            k += (size_t)snprintf(row + k, sizeof row - k, "%*s |  %-*s|\n", STATE_W, "",
                                  ARROW_W - 2, note);
    }
    lc->rows++;
    lc->last_ts = p->ts_ns;
    spool_add(&l->rows, c->id, lc->rows, row, k < sizeof row ? k : sizeof row - 1);
}

static void ladder_event(struct sink *s, const struct tcp_event *e)
{
    (void)s;
    (void)e; /* state changes arrive with their packet (track_info) */
}

/* The header of a diagram, written when the connection ends (its record is final). */
static void ladder_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    (void)why;
    struct ladder_sink *l = (struct ladder_sink *)s;
    if (l->o.conn && c->id != l->o.conn)
        return;
    struct ladder_conn *lc = conn_slot(l, c->id);
    if (!lc)
        return;
    char a[INET6_TEXT_MAX], b[INET6_TEXT_MAX], head[640];
    addr_text(c->family, c->ep[ROLE_CLIENT].addr, a, sizeof a);
    addr_text(c->family, c->ep[ROLE_SERVER].addr, b, sizeof b);
    char ca[80], sa[80];
    snprintf(ca, sizeof ca, c->family == 6 ? "[%s]:%u" : "%s:%u", a, c->ep[ROLE_CLIENT].port);
    snprintf(sa, sizeof sa, c->family == 6 ? "[%s]:%u" : "%s:%u", b, c->ep[ROLE_SERVER].port);
    const char *i0 = lc->has_init[0] ? tcp_state_name((enum tcp_state)lc->init[0]) : "UNKNOWN";
    const char *i1 = lc->has_init[1] ? tcp_state_name((enum tcp_state)lc->init[1]) : "UNKNOWN";
    int n = snprintf(head, sizeof head,
                     "\nConnection #%llu%s\n%*s  %-*s%*s%s\n%s%*s%s |%*s| %s%-*s%s %6s %s\n",
                     (unsigned long long)c->id, c->midstream ? " (capture starts mid-stream)" : "",
                     STATE_W, "client", ARROW_W / 2, ca, ARROW_W / 2 - 2, "server ", sa,
                     color_on(l, C_STATE), STATE_W, i0, color_off(l), ARROW_W, "",
                     color_on(l, C_STATE), STATE_W, i1, color_off(l), "frame", "time (s)");
    if (n > 0)
        spool_add(&l->rows, c->id, 0, head, (size_t)n < sizeof head ? (size_t)n : sizeof head - 1);
    char tail[256];
    n = snprintf(tail, sizeof tail, "%*s  final: client %s, server %s; %s%s\n", STATE_W, "",
                 tcp_state_name((enum tcp_state)c->ep[ROLE_CLIENT].state),
                 tcp_state_name((enum tcp_state)c->ep[ROLE_SERVER].state),
                 close_kind_name((enum close_kind)c->close), "");
    if (lc->dropped) {
        char more[96];
        int m = snprintf(more, sizeof more, "%*s  (%u more segments not drawn)\n", STATE_W, "",
                         lc->dropped);
        if (m > 0)
            spool_add(&l->rows, c->id, UINT64_MAX - 1, more, (size_t)m);
    }
    if (n > 0)
        spool_add(&l->rows, c->id, UINT64_MAX, tail, (size_t)n);
}

static void ladder_finish(struct sink *s, const struct run_totals *t)
{
    (void)t;
    struct ladder_sink *l = (struct ladder_sink *)s;
    spool_replay(&l->rows, &l->out);
    outbuf_flush(&l->out);
}

static void ladder_destroy(struct sink *s)
{
    struct ladder_sink *l = (struct ladder_sink *)s;
    outbuf_flush(&l->out);
    spool_close(&l->rows);
    free(l->conns);
    free(l);
}

static const struct sink_ops ladder_ops = {
    .packet = ladder_packet,
    .event = ladder_event,
    .conn_end = ladder_conn_end,
    .finish = ladder_finish,
    .destroy = ladder_destroy,
};

struct sink *sink_ladder_new(const struct sink_opts *o)
{
    struct ladder_sink *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->base.ops = &ladder_ops;
    l->o = *o;
    spool_open(&l->rows); /* a failure is counted and reported in the output */
    outbuf_init(&l->out, o->fd);
    return &l->base;
}
