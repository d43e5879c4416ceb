/* sink_html.c - the HTML report: one self-contained page (inline CSS, SVG and a little
 * JavaScript; nothing fetched) with a sortable connection table and, per connection,
 * its facts, ladder diagram, time-sequence graph and state timeline; optionally the
 * same drawings as standalone SVG files.
 *
 * Pipeline place: tcp tracker -> [html sink].  Segments and state changes are written
 * to a temporary file as they arrive, each record linked to the previous record of
 * its connection, and the connection records to a second one, so memory stays flat
 * (32 bytes per connection id); everything is rendered at finish, one connection
 * at a time, in id order.  At most max_segments segments are kept per connection; the
 * rest are counted and the drawings say so.  Only the first connection is drawn when
 * the page opens: the others' SVG text sits in inert <script type="text/html">
 * elements and is inserted when its row or heading is clicked; once the page holds
 * max_page_segments segments, later connections are listed but not drawn.  So large
 * captures stay usable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"
#include "svg.h"
#include "synack/sink.h"

#define HTML_MAX_SEGMENTS 2000
#define HTML_MAX_PAGE_SEGMENTS 50000 /* past this, connections are listed, not drawn */
#define HTML_MAX_EVENTS 256          /* state changes kept per connection */

enum { REC_SEG = 1, REC_EVT = 2 };

/* One record of the temporary file. */
struct rec {
    int64_t prev; /* offset + 1 of the previous record of this connection, 0 none */
    uint64_t conn;
    uint8_t kind; /* REC_* */
    union {
        struct svg_seg s;
        struct svg_evt e;
    } u;
};

/* What is kept in memory per connection id. */
struct html_conn {
    int64_t last; /* offset + 1 of the newest record, 0 none */
    int64_t rec;  /* index + 1 of the connection record in the conns file, 0 none */
    uint32_t n_seg, n_evt;
    uint64_t dropped; /* segments beyond the limit */
};

struct html_sink {
    struct sink base;
    struct sink_opts o;
    uint32_t max_seg;
    uint64_t max_page_seg;
    uint64_t page_seg;  /* segments drawn in the page so far */
    uint64_t not_drawn; /* connections left out of the page by max_page_seg */
    FILE *recs;         /* struct rec, in arrival order */
    FILE *conns;        /* struct conn, in the order connections ended */
    int64_t recs_end, n_conns_file;
    struct html_conn *slots; /* by id */
    size_t cap_slots;
    uint64_t max_id;
    bool io_error;     /* the temporary files failed: the report says so */
    bool out_failed;   /* writing the page failed (reported once) */
    struct sbuf w;     /* page text being built */
    struct outbuf out; /* last: large */
};

/* ================================================================ errors */

/* "WHAT: strerror(err)" into the caller's errbuf, first error only. */
static void set_error(struct html_sink *h, const char *what, int err)
{
    if (h->o.errbuf && h->o.errlen && !h->o.errbuf[0])
        snprintf(h->o.errbuf, h->o.errlen, "%s: %s", what, strerror(err));
}

/* ================================================================ storage */

static struct html_conn *slot(struct html_sink *h, uint64_t id)
{
    if (id >= h->cap_slots) {
        size_t cap = h->cap_slots ? h->cap_slots : 64;
        while (cap <= id)
            cap *= 2;
        struct html_conn *n = realloc(h->slots, cap * sizeof *n);
        if (!n)
            return NULL;
        memset(n + h->cap_slots, 0, (cap - h->cap_slots) * sizeof *n);
        h->slots = n;
        h->cap_slots = cap;
    }
    if (id > h->max_id)
        h->max_id = id;
    return &h->slots[id];
}

static void append(struct html_sink *h, struct html_conn *sl, struct rec *r)
{
    if (!h->recs || h->io_error)
        return;
    r->prev = sl->last;
    if (fseek(h->recs, h->recs_end, SEEK_SET) != 0 || fwrite(r, sizeof *r, 1, h->recs) != 1) {
        h->io_error = true;
        return;
    }
    sl->last = h->recs_end + 1;
    h->recs_end += (int64_t)sizeof *r;
}

static uint8_t notes_of(const struct track_info *ti)
{
    uint8_t n = 0;
    n |= ti->retransmit ? SVG_N_RETRANS : 0;
    n |= ti->fast_retransmit ? SVG_N_FAST_RETRANS : 0;
    n |= ti->out_of_order ? SVG_N_OUT_OF_ORDER : 0;
    n |= ti->dup_ack ? SVG_N_DUP_ACK : 0;
    n |= ti->keepalive ? SVG_N_KEEPALIVE : 0;
    n |= ti->window_probe ? SVG_N_WINDOW_PROBE : 0;
    n |= ti->zero_window ? SVG_N_ZERO_WINDOW : 0;
    n |= ti->above_mss ? SVG_N_ABOVE_MSS : 0;
    return n;
}

static void html_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    struct html_sink *h = (struct html_sink *)s;
    if (!ti || !ti->conn || !p->tcp_valid)
        return;
    const struct conn *c = ti->conn;
    if (h->o.conn && c->id != h->o.conn)
        return;
    struct html_conn *sl = slot(h, c->id);
    if (!sl)
        return;
    if (sl->n_seg >= h->max_seg) {
        sl->dropped++;
        return;
    }
    sl->n_seg++;
    const struct pkt_tcp *tcp = &p->u.tcp;
    const struct tcp_endpoint *S = &c->ep[ti->sender], *R = &c->ep[1 - ti->sender];
    struct rec r;
    memset(&r, 0, sizeof r);
    r.conn = c->id;
    r.kind = REC_SEG;
    struct svg_seg *g = &r.u.s;
    g->frame = p->n;
    g->ts_ns = p->ts_ns;
    g->seq = tcp->seq - S->isn;
    g->ack = tcp->ack - R->isn;
    g->len = tcp->payload_len;
    g->raw_win = tcp->win;
    g->win = tcp->win;
    if (!(tcp->flags & TCP_SYN) && S->has_wscale && R->has_wscale)
        g->win = (uint32_t)tcp->win << (S->wscale < 14 ? S->wscale : 14);
    if ((tcp->o.present & TCPO_SACK) && tcp->o.n_sack) {
        for (unsigned i = 0; i < tcp->o.n_sack && i < SVG_MAX_SACK; i++) {
            g->sack[i][0] = tcp->o.sack[i][0] - R->isn;
            g->sack[i][1] = tcp->o.sack[i][1] - R->isn;
            g->n_sack++;
        }
    }
    g->mss = (tcp->flags & TCP_SYN) && (tcp->o.present & TCPO_MSS) ? tcp->o.mss : 0;
    g->wscale = (tcp->flags & TCP_SYN) && (tcp->o.present & TCPO_WSCALE) ? tcp->o.wscale : 0xff;
    g->opt_len = tcp->doff > 20 ? (uint16_t)(tcp->doff - 20) : 0;
    g->peer_mss = R->has_mss ? R->mss : 0;
    g->dir = (uint8_t)ti->sender;
    g->flags = tcp->flags;
    g->notes = notes_of(ti);
    g->seq_ok = S->isn_known;
    g->ack_ok = R->isn_known;
    uint32_t n = tcp->payload_caplen < SVG_PREVIEW ? tcp->payload_caplen : SVG_PREVIEW;
    if (tcp->payload && n) {
        memcpy(g->preview, tcp->payload, n);
        g->n_preview = (uint8_t)n;
    }
    append(h, sl, &r);
}

/* Every state change, whether a packet or a timer caused it; the drawings attach a
 * change to the segment with the same frame and time. */
static void html_event(struct sink *s, const struct tcp_event *e)
{
    struct html_sink *h = (struct html_sink *)s;
    if (h->o.conn && e->conn != h->o.conn)
        return;
    struct html_conn *sl = slot(h, e->conn);
    if (!sl || sl->n_evt >= HTML_MAX_EVENTS)
        return;
    sl->n_evt++;
    struct rec r;
    memset(&r, 0, sizeof r);
    r.conn = e->conn;
    r.kind = REC_EVT;
    r.u.e.frame = e->frame;
    r.u.e.ts_ns = e->ts_ns;
    r.u.e.endpoint = (uint8_t)e->endpoint;
    r.u.e.from = (uint8_t)e->from;
    r.u.e.to = (uint8_t)e->to;
    append(h, sl, &r);
}

static void html_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    (void)why;
    struct html_sink *h = (struct html_sink *)s;
    if (h->o.conn && c->id != h->o.conn)
        return;
    struct html_conn *sl = slot(h, c->id);
    if (!sl || !h->conns || h->io_error)
        return;
    if (fseek(h->conns, h->n_conns_file * (int64_t)sizeof *c, SEEK_SET) != 0 ||
        fwrite(c, sizeof *c, 1, h->conns) != 1) {
        h->io_error = true;
        return;
    }
    sl->rec = ++h->n_conns_file;
}

static bool load_conn(struct html_sink *h, const struct html_conn *sl, struct conn *c)
{
    return sl->rec && fseek(h->conns, (sl->rec - 1) * (int64_t)sizeof *c, SEEK_SET) == 0 &&
           fread(c, sizeof *c, 1, h->conns) == 1;
}

/* Read one connection's records back, oldest first.  The arrays are the caller's to
 * free; false when memory or the file failed. */
static bool load_records(struct html_sink *h, const struct html_conn *sl, struct svg_seg **segs,
                         size_t *n_seg, struct svg_evt **evts, size_t *n_evt)
{
    size_t n = (size_t)sl->n_seg + sl->n_evt, k = 0;
    *segs = NULL;
    *evts = NULL;
    *n_seg = *n_evt = 0;
    int64_t *offs = malloc((n ? n : 1) * sizeof *offs);
    *segs = malloc((sl->n_seg ? sl->n_seg : 1) * sizeof **segs);
    *evts = malloc((sl->n_evt ? sl->n_evt : 1) * sizeof **evts);
    if (!offs || !*segs || !*evts) {
        free(offs);
        return false;
    }
    struct rec r;
    for (int64_t at = sl->last; at && k < n; at = r.prev) {
        if (fseek(h->recs, at - 1, SEEK_SET) != 0 || fread(&r, sizeof r, 1, h->recs) != 1) {
            free(offs);
            return false;
        }
        offs[k++] = at - 1;
    }
    while (k-- > 0) {
        if (fseek(h->recs, offs[k], SEEK_SET) != 0 || fread(&r, sizeof r, 1, h->recs) != 1) {
            free(offs);
            return false;
        }
        if (r.kind == REC_SEG && *n_seg < sl->n_seg)
            (*segs)[(*n_seg)++] = r.u.s;
        else if (r.kind == REC_EVT && *n_evt < sl->n_evt)
            (*evts)[(*n_evt)++] = r.u.e;
    }
    free(offs);
    return true;
}

/* ================================================================ page pieces */

static void check_out(struct html_sink *h)
{
    if (h->out.failed && !h->out_failed) {
        h->out_failed = true;
        set_error(h, h->o.out_name ? h->o.out_name : "report", errno ? errno : EIO);
    }
}

static void flush_w(struct html_sink *h)
{
    if (h->o.fd >= 0 && h->w.len) {
        errno = 0;
        outbuf_put(&h->out, h->w.p, h->w.len);
        outbuf_maybe_flush(&h->out);
        check_out(h);
    }
    h->w.len = 0;
}

static void esc(struct sbuf *b, const char *s)
{
    sbuf_esc(b, s, strlen(s));
}

static void ep_text(char *out, size_t size, const struct conn *c, int r)
{
    char a[INET6_TEXT_MAX];
    addr_text(c->family, c->ep[r].addr, a, sizeof a);
    snprintf(out, size, c->family == 6 ? "[%s]:%u" : "%s:%u", a, c->ep[r].port);
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"synack\">\n";

static const char page_style[] =
    "<style>\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:24px auto;max-width:1400px;padding:0 16px;color:#212121;background:#f5f7f8}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}"
    "h3{font-size:15px;margin:18px 0 6px;color:#37474f}\n"
    ".meta{color:#546e7a;margin:0 0 6px}.hint{color:#78909c;font-size:13px;margin:0 0 12px}\n"
    "code{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:0.95em}\n"
    ".tablebox{overflow:auto;max-height:70vh;border:1px solid #cfd8dc;border-radius:6px;"
    "background:#fff}\n"
    "table.conns{border-collapse:collapse;font-size:12.5px;width:100%}\n"
    "table.conns th,table.conns td{padding:4px 6px;border-bottom:1px solid #eceff1;"
    "text-align:left;white-space:nowrap}\n"
    "table.conns th{position:sticky;top:0;background:#eceff1;cursor:pointer;user-select:none;"
    "font-weight:600}\n"
    "table.conns th:hover{background:#cfd8dc}\n"
    "table.conns th.asc::after{content:' \\25B2'}table.conns th.desc::after{content:' \\25BC'}\n"
    "table.conns td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.conns td.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace}\n"
    "table.conns tbody tr{cursor:pointer}table.conns tbody tr:hover{background:#e3f2fd}\n"
    "table.conns tbody tr.sel{background:#bbdefb}\n"
    ".st{display:inline-block;padding:0 5px;border-radius:3px;font-size:12px;font-weight:600}\n"
    ".cs{font-weight:600}.cs.bad{color:#c62828}.cs.good{color:#2e7d32}\n"
    "details.conn{background:#fff;border:1px solid #cfd8dc;border-radius:6px;margin:10px 0;"
    "padding:0 14px}\n"
    "details.conn>summary{cursor:pointer;padding:10px 0;font-weight:600}\n"
    "details.conn>summary span{font-weight:400;color:#546e7a}\n"
    "details.conn[open]>summary{border-bottom:1px solid #eceff1}\n"
    ".diagrams{padding-bottom:12px}.diagrams svg{display:block;max-width:100%;height:auto;"
    "border:1px solid #eceff1;border-radius:4px}\n"
    "table.facts{border-collapse:collapse;font-size:13px;margin:10px 0}\n"
    "table.facts th{text-align:left;padding:3px 14px 3px 0;color:#546e7a;font-weight:600;"
    "vertical-align:top}\n"
    "table.facts td{padding:3px 18px 3px 0;vertical-align:top}\n"
    ".warn{color:#c62828}\n"
    "</style>\n";

/* The page's script: lazy drawing, row clicks, sortable columns. */
static const char page_script[] =
    "<script>\n"
    "(function () {\n"
    "  'use strict';\n"
    "  function draw(d) {\n"
    "    var box = d.querySelector('.diagrams');\n"
    "    if (!box || box.getAttribute('data-drawn')) return;\n"
    "    var src = document.getElementById('svg-' + d.getAttribute('data-conn'));\n"
    "    if (src) box.innerHTML = src.textContent;\n"
    "    box.setAttribute('data-drawn', '1');\n"
    "  }\n"
    "  document.addEventListener('toggle', function (ev) {\n"
    "    var d = ev.target;\n"
    "    if (d && d.classList && d.classList.contains('conn') && d.open) draw(d);\n"
    "  }, true);\n"
    "  Array.prototype.forEach.call(document.querySelectorAll('details.conn[open]'), draw);\n"
    "  var table = document.getElementById('conns');\n"
    "  if (!table) return;\n"
    "  var body = table.tBodies[0];\n"
    "  body.addEventListener('click', function (ev) {\n"
    "    var tr = ev.target.closest('tr');\n"
    "    if (!tr) return;\n"
    "    var d = document.getElementById('conn-' + tr.getAttribute('data-conn'));\n"
    "    if (!d) return;\n"
    "    var old = body.querySelector('tr.sel');\n"
    "    if (old) old.classList.remove('sel');\n"
    "    tr.classList.add('sel');\n"
    "    d.open = true;\n"
    "    draw(d);\n"
    "    d.scrollIntoView({block: 'start'});\n"
    "  });\n"
    "  function key(td, num) {\n"
    "    var v = td.hasAttribute('data-v') ? td.getAttribute('data-v') : td.textContent;\n"
    "    if (!num) return v;\n"
    "    var f = parseFloat(v);\n"
    "    return isNaN(f) ? -Infinity : f;\n"
    "  }\n"
    "  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {\n"
    "    th.tabIndex = 0;\n"
    "    function sort() {\n"
    "      var num = th.getAttribute('data-type') === 'num';\n"
    "      var asc = !th.classList.contains('asc');\n"
    "      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {\n"
    "        h.classList.remove('asc', 'desc');\n"
    "      });\n"
    "      th.classList.add(asc ? 'asc' : 'desc');\n"
    "      var rows = Array.prototype.slice.call(body.rows);\n"
    "      rows.sort(function (a, b) {\n"
    "        var x = key(a.cells[i], num), y = key(b.cells[i], num);\n"
    "        var c = num ? (x < y ? -1 : x > y ? 1 : 0) : String(x).localeCompare(String(y));\n"
    "        return asc ? c : -c;\n"
    "      });\n"
    "      var f = document.createDocumentFragment();\n"
    "      rows.forEach(function (r) { f.appendChild(r); });\n"
    "      body.appendChild(f);\n"
    "    }\n"
    "    th.addEventListener('click', sort);\n"
    "    th.addEventListener('keydown', function (ev) {\n"
    "      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sort(); }\n"
    "    });\n"
    "  });\n"
    "})();\n"
    "</script>\n";

static const struct {
    const char *name, *type, *title;
} columns[] = {
    {"id", "num", "connection id, in order of first packet"},
    {"client", "text", "the originator (sender of the first SYN)"},
    {"server", "text", "the responder"},
    {"dur. (s)", "num", "duration: first to last packet, seconds"},
    {"packets", "num", "TCP packets, both directions"},
    {"bytes c\xe2\x86\x92s", "num", "payload bytes client to server (sequence space)"},
    {"bytes s\xe2\x86\x92"
     "c",
     "num", "payload bytes server to client (sequence space)"},
    {"handshake", "text", "three-way handshake as seen"},
    {"RTT (ms)", "num", "SYN to the ACK of the SYN/ACK"},
    {"close", "text",
     "how it ended, and who closed first (sender of the first FIN or of the "
     "ending RST)"},
    {"client state", "text", "final RFC 9293 state of the client"},
    {"server state", "text", "final RFC 9293 state of the server"},
    {"conn_state", "text", "Zeek's conn_state"},
    {"history", "text", "Zeek's history letters"},
    {"retrans", "num", "retransmitted segments, both directions"},
};

static void cell_num(struct sbuf *b, const char *text, const char *v)
{
    sbuf_puts(b, "<td class=\"num\"");
    if (v)
        sbuf_printf(b, " data-v=\"%s\"", v);
    sbuf_puts(b, ">");
    esc(b, text);
    sbuf_puts(b, "</td>");
}

static void cell_text(struct sbuf *b, const char *cls, const char *text)
{
    sbuf_printf(b, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    esc(b, text);
    sbuf_puts(b, "</td>");
}

static void cell_state(struct sbuf *b, unsigned st)
{
    const char *nm = tcp_state_name((enum tcp_state)st);
    sbuf_printf(b, "<td><span class=\"st\" style=\"background:%s\">%s</span></td>",
                svg_state_color((enum tcp_state)st), nm);
}

static bool conn_state_ok(const char *cs)
{
    return strcmp(cs, "SF") == 0 || strcmp(cs, "S1") == 0;
}

static int64_t rtt_ns(const struct conn *c)
{
    if (!c->syn_ns || !c->synack_ns || c->synack_ns < c->syn_ns)
        return -1;
    return (c->ack_ns && c->ack_ns >= c->synack_ns ? c->ack_ns : c->synack_ns) - c->syn_ns;
}

static void table_row(struct html_sink *h, const struct conn *c)
{
    struct sbuf *b = &h->w;
    char t[96], v[48];
    const struct tcp_endpoint *ce = &c->ep[ROLE_CLIENT], *se = &c->ep[ROLE_SERVER];
    sbuf_printf(b, "<tr data-conn=\"%llu\">", (unsigned long long)c->id);
    snprintf(t, sizeof t, "%llu", (unsigned long long)c->id);
    cell_num(b, t, NULL);
    ep_text(t, sizeof t, c, ROLE_CLIENT);
    cell_text(b, "mono", t);
    ep_text(t, sizeof t, c, ROLE_SERVER);
    cell_text(b, "mono", t);
    snprintf(t, sizeof t, "%.6f", (double)(c->last_ns - c->first_ns) / 1e9);
    cell_num(b, t, NULL);
    snprintf(t, sizeof t, "%llu", (unsigned long long)ce->packets + se->packets);
    cell_num(b, t, NULL);
    snprintf(t, sizeof t, "%llu", (unsigned long long)tcp_endpoint_bytes(ce));
    cell_num(b, t, NULL);
    snprintf(t, sizeof t, "%llu", (unsigned long long)tcp_endpoint_bytes(se));
    cell_num(b, t, NULL);
    cell_text(b, NULL, handshake_kind_name((enum handshake_kind)c->handshake));
    int64_t rtt = rtt_ns(c);
    if (rtt >= 0) {
        snprintf(t, sizeof t, "%.3f", (double)rtt / 1e6);
        snprintf(v, sizeof v, "%lld", (long long)rtt);
        cell_num(b, t, v);
    } else {
        cell_num(b, "-", "-1");
    }
    const char *closer = conn_active_closer(c);
    snprintf(t, sizeof t, "%s%s%s", close_kind_name((enum close_kind)c->close),
             closer ? " by " : "", closer ? closer : "");
    cell_text(b, NULL, t);
    cell_state(b, ce->state);
    cell_state(b, se->state);
    const char *cs = conn_state_zeek(c);
    sbuf_printf(b, "<td class=\"cs %s\">%s</td>", conn_state_ok(cs) ? "good" : "bad", cs);
    cell_text(b, "mono", c->history[0] ? c->history : "-");
    snprintf(t, sizeof t, "%llu", (unsigned long long)ce->retransmits + se->retransmits);
    cell_num(b, t, NULL);
    sbuf_puts(b, "</tr>\n");
}

/* A row of the facts table: a name, then one value spanning both endpoint columns. */
static void fact(struct sbuf *b, const char *name, const char *value)
{
    sbuf_puts(b, "<tr><th>");
    esc(b, name);
    sbuf_puts(b, "</th><td colspan=\"2\">");
    esc(b, value);
    sbuf_puts(b, "</td></tr>\n");
}

/* A row of the facts table with one value per endpoint. */
static void fact2(struct sbuf *b, const char *name, const char *client, const char *server)
{
    sbuf_puts(b, "<tr><th>");
    esc(b, name);
    sbuf_puts(b, "</th><td>");
    esc(b, client);
    sbuf_puts(b, "</td><td>");
    esc(b, server);
    sbuf_puts(b, "</td></tr>\n");
}

/* What an endpoint did that deserves a look: the non-zero counters, or "none". */
static void endpoint_issues(char *out, size_t size, const struct tcp_endpoint *e)
{
    const struct {
        uint64_t n;
        const char *name;
    } items[] = {
        {e->retransmits, "retransmissions"}, {e->fast_retransmits, "fast retransmissions"},
        {e->out_of_order, "out-of-order"},   {e->dup_acks, "dup ACKs"},
        {e->zero_windows, "zero windows"},   {e->keepalives, "keep-alives"},
        {e->window_probes, "window probes"}, {e->above_mss, "above the peer's MSS"},
        {e->bytes_missed, "bytes missed"},
    };
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (!items[i].n)
            continue;
        int n = snprintf(out + k, size - k, "%s%s %llu", k ? ", " : "", items[i].name,
                         (unsigned long long)items[i].n);
        if (n < 0 || (size_t)n >= size - k)
            break;
        k += (size_t)n;
    }
    if (!k)
        snprintf(out, size, "none");
}

static void endpoint_facts(struct sbuf *b, const struct conn *c)
{
    char v[2][320];
    sbuf_puts(b, "<tr><th></th><th>client</th><th>server</th></tr>\n");
    for (int r = 0; r < 2; r++)
        ep_text(v[r], sizeof v[r], c, r);
    fact2(b, "address", v[0], v[1]);
    for (int r = 0; r < 2; r++) {
        const struct tcp_endpoint *e = &c->ep[r];
        snprintf(v[r], sizeof v[r], "%u packets, %llu bytes, largest payload %u", e->packets,
                 (unsigned long long)tcp_endpoint_bytes(e), e->max_payload);
    }
    fact2(b, "sent", v[0], v[1]);
    for (int r = 0; r < 2; r++) {
        const struct tcp_endpoint *e = &c->ep[r];
        char mss[16] = "-", ws[16] = "-";
        if (e->has_mss)
            snprintf(mss, sizeof mss, "%u", e->mss);
        if (e->has_wscale)
            snprintf(ws, sizeof ws, "%u", e->wscale);
        if (e->syn_seen)
            snprintf(v[r], sizeof v[r], "MSS %s, window scale %s%s%s", mss, ws,
                     e->sack_perm ? ", SACK permitted" : "", e->has_ts ? ", timestamps" : "");
        else
            snprintf(v[r], sizeof v[r], "no SYN seen");
    }
    fact2(b, "SYN options", v[0], v[1]);
    for (int r = 0; r < 2; r++)
        endpoint_issues(v[r], sizeof v[r], &c->ep[r]);
    fact2(b, "noted", v[0], v[1]);
    fact2(b, "final state", tcp_state_name((enum tcp_state)c->ep[0].state),
          tcp_state_name((enum tcp_state)c->ep[1].state));
}

/* The lazily drawn part of a connection: facts, then the three drawings. */
static void conn_body(struct sbuf *b, const struct svg_conn *v, const struct sbuf *ladder,
                      const struct sbuf *tseq, const struct sbuf *states)
{
    const struct conn *c = v->c;
    char t[256];
    sbuf_puts(b, "<table class=\"facts\">\n");
    endpoint_facts(b, c);
    char r1[32] = "-", r2[32] = "-";
    if (c->syn_ns && c->synack_ns)
        snprintf(r1, sizeof r1, "%.3f ms", (double)(c->synack_ns - c->syn_ns) / 1e6);
    if (c->synack_ns && c->ack_ns)
        snprintf(r2, sizeof r2, "%.3f ms", (double)(c->ack_ns - c->synack_ns) / 1e6);
    snprintf(t, sizeof t, "%s; SYN \xe2\x86\x92 SYN/ACK %s, SYN/ACK \xe2\x86\x92 ACK %s%s",
             handshake_kind_name((enum handshake_kind)c->handshake), r1, r2,
             c->midstream ? "; the capture starts mid-stream" : "");
    fact(b, "handshake", t);
    const char *closer = conn_active_closer(c);
    snprintf(t, sizeof t, "%s%s%s%s", close_kind_name((enum close_kind)c->close),
             closer ? " (active closer: " : "", closer ? closer : "", closer ? ")" : "");
    fact(b, "close", t);
    snprintf(t, sizeof t, "history %s, conn_state %s%s", c->history[0] ? c->history : "-",
             conn_state_zeek(c), c->reused ? "; ended by a new SYN on the same 4-tuple" : "");
    fact(b, "Zeek", t);
    snprintf(t, sizeof t, "frames %llu to %llu, %.6f s", (unsigned long long)c->first_frame,
             (unsigned long long)c->last_frame, (double)(c->last_ns - c->first_ns) / 1e9);
    fact(b, "span", t);
    sbuf_puts(b, "</table>\n");
    if (v->dropped)
        sbuf_printf(b,
                    "<p class=\"warn\">Only the first %u segments are drawn; %llu more were "
                    "left out (<code>--max-segments</code>).</p>\n",
                    v->max_segments, (unsigned long long)v->dropped);
    sbuf_puts(b, "<h3>Ladder diagram</h3>\n");
    sbuf_put(b, ladder->p ? ladder->p : "", ladder->len);
    sbuf_puts(b, "<h3>Time\xe2\x80\x93sequence graph</h3>\n");
    sbuf_put(b, tseq->p ? tseq->p : "", tseq->len);
    sbuf_puts(b, "<h3>Endpoint states over time</h3>\n");
    sbuf_put(b, states->p ? states->p : "", states->len);
}

/* Write one standalone SVG file into svg_dir. */
static void write_svg(struct html_sink *h, uint64_t id, const char *kind, const struct sbuf *s)
{
    char what[4200];
    int n = snprintf(what, sizeof what, "--svg %s/conn-%llu-%s.svg", h->o.svg_dir,
                     (unsigned long long)id, kind);
    const char *path = what + 6;
    if (n < 0 || (size_t)n >= sizeof what) {
        set_error(h, "--svg", ENAMETOOLONG);
        return;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        set_error(h, what, errno);
        return;
    }
    static const char decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    bool ok = fwrite(decl, 1, sizeof decl - 1, f) == sizeof decl - 1 &&
              (!s->len || fwrite(s->p, 1, s->len, f) == s->len);
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok)
        set_error(h, what, err ? err : EIO);
}

static void conn_section(struct html_sink *h, const struct conn *c, const struct html_conn *sl,
                         bool first)
{
    struct svg_seg *segs;
    struct svg_evt *evts;
    size_t n_seg, n_evt;
    if (!load_records(h, sl, &segs, &n_seg, &evts, &n_evt)) {
        free(segs);
        free(evts);
        h->io_error = true;
        n_seg = n_evt = 0;
        segs = NULL;
        evts = NULL;
    }
    struct svg_conn v = {
        .c = c,
        .seg = segs,
        .n_seg = n_seg,
        .evt = evts,
        .n_evt = n_evt,
        .dropped = sl->dropped,
        .max_segments = h->max_seg,
    };
    struct sbuf ladder = {0}, tseq = {0}, states = {0};
    svg_ladder(&ladder, &v);
    svg_tseq(&tseq, &v);
    svg_states(&states, &v);
    if (ladder.oom || tseq.oom || states.oom)
        set_error(h, "report", ENOMEM);
    if (h->o.svg_dir) {
        write_svg(h, c->id, "ladder", &ladder);
        write_svg(h, c->id, "tseq", &tseq);
        write_svg(h, c->id, "states", &states);
    }
    if (h->o.fd >= 0) {
        struct sbuf *b = &h->w;
        char ca[80], sa[80];
        ep_text(ca, sizeof ca, c, ROLE_CLIENT);
        ep_text(sa, sizeof sa, c, ROLE_SERVER);
        const char *closer = conn_active_closer(c);
        sbuf_printf(b, "<details class=\"conn\" id=\"conn-%llu\" data-conn=\"%llu\"%s>\n",
                    (unsigned long long)c->id, (unsigned long long)c->id, first ? " open" : "");
        sbuf_printf(b, "<summary>#%llu ", (unsigned long long)c->id);
        esc(b, ca);
        sbuf_puts(b, " \xe2\x86\x92 ");
        esc(b, sa);
        sbuf_printf(b,
                    " <span>\xc2\xb7 %s \xc2\xb7 %s%s%s \xc2\xb7 %llu segment%s \xc2\xb7 "
                    "%.6f s</span></summary>\n",
                    conn_state_zeek(c), close_kind_name((enum close_kind)c->close),
                    closer ? " by " : "", closer ? closer : "",
                    (unsigned long long)(n_seg + sl->dropped), n_seg + sl->dropped == 1 ? "" : "s",
                    (double)(c->last_ns - c->first_ns) / 1e9);
        bool in_page = first || h->page_seg + n_seg <= h->max_page_seg;
        if (in_page)
            h->page_seg += n_seg;
        if (!in_page) {
            sbuf_printf(b,
                        "<div class=\"diagrams\" data-drawn=\"1\"><p class=\"warn\">Not drawn: "
                        "this page already holds %llu segments (<code>--max-page-segments</code>"
                        "). <code>synack report --conn %llu</code> draws this one.</p></div>\n",
                        (unsigned long long)h->page_seg, (unsigned long long)c->id);
        } else if (first) {
            sbuf_puts(b, "<div class=\"diagrams\" data-drawn=\"1\">\n");
            conn_body(b, &v, &ladder, &tseq, &states);
            sbuf_puts(b, "</div>\n");
        } else {
            /* inert text until opened: the browser keeps a string, not a DOM */
            sbuf_puts(b, "<div class=\"diagrams\"></div>\n");
            sbuf_printf(b, "<script type=\"text/html\" id=\"svg-%llu\">\n",
                        (unsigned long long)c->id);
            conn_body(b, &v, &ladder, &tseq, &states);
            sbuf_puts(b, "</script>\n");
        }
        sbuf_puts(b, "</details>\n");
        if (b->oom)
            set_error(h, "report", ENOMEM);
        flush_w(h);
    }
    sbuf_free(&ladder);
    sbuf_free(&tseq);
    sbuf_free(&states);
    free(segs);
    free(evts);
}

static void page_top(struct html_sink *h, const struct run_totals *t, uint64_t n_conns)
{
    struct sbuf *b = &h->w;
    const char *title = h->o.title ? h->o.title : "capture";
    sbuf_puts(b, page_head);
    sbuf_puts(b, "<title>synack report: ");
    esc(b, title);
    sbuf_puts(b, "</title>\n");
    sbuf_puts(b, page_style);
    sbuf_puts(b, "</head>\n<body>\n<h1>synack report</h1>\n<p class=\"meta\">");
    sbuf_puts(b, "<code>");
    esc(b, title);
    sbuf_printf(b,
                "</code> \xc2\xb7 %llu packets (%llu TCP) \xc2\xb7 %llu connection%s \xc2\xb7 %llu "
                "packets with anomalies",
                (unsigned long long)t->packets, (unsigned long long)t->tcp,
                (unsigned long long)n_conns, n_conns == 1 ? "" : "s",
                (unsigned long long)t->with_anomalies);
    if (t->trk.ended_evicted)
        sbuf_printf(b, " \xc2\xb7 <span class=\"warn\">%llu evicted (table full)</span>",
                    (unsigned long long)t->trk.ended_evicted);
    if (h->o.conn)
        sbuf_printf(b, " \xc2\xb7 only connection %llu", (unsigned long long)h->o.conn);
    sbuf_puts(b, "</p>\n");
    if (h->not_drawn)
        sbuf_printf(b,
                    "<p class=\"warn\">%llu connections are listed but not drawn: the page "
                    "holds at most %llu segments (<code>--max-page-segments</code>); "
                    "<code>--conn ID</code> draws one.</p>\n",
                    (unsigned long long)h->not_drawn, (unsigned long long)h->max_page_seg);
    if (h->io_error)
        sbuf_puts(b, "<p class=\"warn\">The report's temporary storage failed: some drawings "
                     "are missing.</p>\n");
    sbuf_puts(b, "<p class=\"hint\">Click a column heading to sort, a row to open its "
                 "connection. In the drawings, times are seconds since the connection's first "
                 "packet and sequence numbers are relative (0 is each side's ISN). Hover over an "
                 "arrow for its details.</p>\n");
    sbuf_puts(b, "<div class=\"tablebox\"><table class=\"conns\" id=\"conns\">\n<thead><tr>");
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++) {
        sbuf_printf(b, "<th data-type=\"%s\" title=\"", columns[i].type);
        esc(b, columns[i].title);
        sbuf_puts(b, "\">");
        esc(b, columns[i].name);
        sbuf_puts(b, "</th>");
    }
    sbuf_puts(b, "</tr></thead>\n<tbody>\n");
    flush_w(h);
}

static void html_finish(struct sink *s, const struct run_totals *t)
{
    struct html_sink *h = (struct html_sink *)s;
    if (h->recs)
        fflush(h->recs);
    if (h->conns)
        fflush(h->conns);
    uint64_t n_conns = 0, page = 0;
    for (uint64_t id = 1; id <= h->max_id && id < h->cap_slots; id++) {
        const struct html_conn *sl = &h->slots[id];
        if (!sl->rec)
            continue;
        /* the same rule as conn_section's, to say up front what is left out */
        if (!n_conns || page + sl->n_seg <= h->max_page_seg)
            page += sl->n_seg;
        else
            h->not_drawn++;
        n_conns++;
    }
    if (h->o.fd >= 0)
        page_top(h, t, n_conns);
    struct conn c;
    if (h->o.fd >= 0) {
        for (uint64_t id = 1; id <= h->max_id && id < h->cap_slots; id++) {
            if (!load_conn(h, &h->slots[id], &c))
                continue;
            table_row(h, &c);
            flush_w(h);
        }
        sbuf_puts(&h->w, "</tbody>\n</table></div>\n<h2>Connections</h2>\n");
        if (!n_conns)
            sbuf_puts(&h->w, "<p>No TCP connection in this capture.</p>\n");
        flush_w(h);
    }
    bool first = true;
    for (uint64_t id = 1; id <= h->max_id && id < h->cap_slots; id++) {
        if (!load_conn(h, &h->slots[id], &c))
            continue;
        conn_section(h, &c, &h->slots[id], first);
        first = false;
    }
    if (h->o.fd >= 0) {
        sbuf_puts(&h->w, page_script);
        sbuf_puts(&h->w, "</body>\n</html>\n");
        flush_w(h);
        errno = 0;
        outbuf_flush(&h->out);
        check_out(h);
    }
    if (h->io_error)
        set_error(h, "temporary file", errno ? errno : EIO);
}

static void html_destroy(struct sink *s)
{
    struct html_sink *h = (struct html_sink *)s;
    if (h->recs)
        fclose(h->recs);
    if (h->conns)
        fclose(h->conns);
    sbuf_free(&h->w);
    free(h->slots);
    free(h);
}

static const struct sink_ops html_ops = {
    .packet = html_packet,
    .event = html_event,
    .conn_end = html_conn_end,
    .finish = html_finish,
    .destroy = html_destroy,
};

struct sink *sink_html_new(const struct sink_opts *o)
{
    struct html_sink *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base.ops = &html_ops;
    h->o = *o;
    h->max_seg = o->max_segments ? o->max_segments : HTML_MAX_SEGMENTS;
    h->max_page_seg = o->max_page_segments ? o->max_page_segments : HTML_MAX_PAGE_SEGMENTS;
    h->recs = tmpfile();
    h->conns = tmpfile();
    if (!h->recs || !h->conns) {
        h->io_error = true;
        set_error(h, "temporary file", errno);
    }
    outbuf_init(&h->out, o->fd);
    return &h->base;
}
