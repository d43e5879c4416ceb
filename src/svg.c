/* svg.c - SVG drawings of one connection (see svg.h): ladder, time-sequence graph,
 * state timeline.
 *
 * Pipeline place: called by the HTML report sink at finish, one connection at a time.
 * Drawings use presentation attributes only (no CSS, no ids), so the same text works
 * inline in the report page, many times over, and as a standalone .svg file.
 * Coordinates assume a monospace font of 0.6 em per character.
 */
#include "svg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"
#include "textfmt.h"

/* ================================================================ text buffer */

static void sbuf_grow(struct sbuf *b, size_t need)
{
    if (b->oom || b->len + need < b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap <= b->len + need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void sbuf_put(struct sbuf *b, const void *s, size_t n)
{
    sbuf_grow(b, n + 1);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
    sbuf_put(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sbuf_put(b, tmp, (size_t)n);
        return;
    }
    sbuf_grow(b, (size_t)n + 1);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

void sbuf_esc(struct sbuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        switch (c) {
        case '&':
            sbuf_puts(b, "&amp;");
            i++;
            continue;
        case '<':
            sbuf_puts(b, "&lt;");
            i++;
            continue;
        case '>':
            sbuf_puts(b, "&gt;");
            i++;
            continue;
        case '"':
            sbuf_puts(b, "&quot;");
            i++;
            continue;
        case '\'':
            sbuf_puts(b, "&#39;");
            i++;
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            sbuf_put(b, "?", 1);
            i++;
            continue;
        }
        size_t k = utf8_len(u + i, n - i);
        if (k == 0) {
            sbuf_put(b, "?", 1);
            i++;
            continue;
        }
        sbuf_put(b, u + i, k);
        i += k;
    }
}

void sbuf_free(struct sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void esc_str(struct sbuf *b, const char *s)
{
    sbuf_esc(b, s, strlen(s));
}

/* ================================================================ shared pieces */

#define FONT "DejaVu Sans Mono, Menlo, Consolas, monospace"
#define CHAR_W 0.6 /* em per character of the monospace font */

static const char *const state_colors[TCPS_COUNT] = {
    [TCPS_UNKNOWN] = "#eeeeee",    [TCPS_CLOSED] = "#cfd8dc",       [TCPS_LISTEN] = "#b3e5fc",
    [TCPS_SYN_SENT] = "#c8e6c9",   [TCPS_SYN_RECEIVED] = "#dcedc8", [TCPS_ESTABLISHED] = "#90caf9",
    [TCPS_FIN_WAIT_1] = "#ffe0b2", [TCPS_FIN_WAIT_2] = "#ffcc80",   [TCPS_CLOSE_WAIT] = "#ffab91",
    [TCPS_CLOSING] = "#f8bbd0",    [TCPS_LAST_ACK] = "#ef9a9a",     [TCPS_TIME_WAIT] = "#d1c4e9",
};

const char *svg_state_color(enum tcp_state s)
{
    return (unsigned)s < TCPS_COUNT ? state_colors[s] : "#eeeeee";
}

static const char *state_name(unsigned s)
{
    return tcp_state_name((enum tcp_state)(s < TCPS_COUNT ? s : TCPS_UNKNOWN));
}

#define C_SYN "#2e7d32"
#define C_FIN "#e65100"
#define C_RST "#c62828"
#define C_DATA "#1565c0"
#define C_ACK "#546e7a"
#define C_RETRANS "#d32f2f"
#define C_WIN "#f9a825"
#define C_SACK "#8e24aa"
#define C_TEXT "#212121"
#define C_INFO "#00796b"
#define C_MUTED "#757575"
#define C_LINE "#37474f"

/* Classes of the ladder's repeated elements (one row per segment: attributes would
 * double its size).  Scoped to svg.ladder: inline in the page, the rules apply to the
 * whole document. */
static const char ladder_style[] =
    "<style>"
    "svg.ladder .s-m{font-size:11px;fill:" C_MUTED "}"
    "svg.ladder .s-e{text-anchor:end}"
    "svg.ladder .s-c{text-anchor:middle}"
    "svg.ladder line.s-a{stroke-width:1.5px}"
    "svg.ladder line.s-d{stroke-width:2px}"
    "svg.ladder .s-syn{fill:" C_SYN "}svg.ladder line.s-syn{stroke:" C_SYN "}"
    "svg.ladder .s-fin{fill:" C_FIN "}svg.ladder line.s-fin{stroke:" C_FIN "}"
    "svg.ladder .s-rst{fill:" C_RST "}svg.ladder line.s-rst{stroke:" C_RST "}"
    "svg.ladder .s-dat{fill:" C_DATA "}svg.ladder line.s-dat{stroke:" C_DATA "}"
    "svg.ladder .s-ack{fill:" C_ACK "}svg.ladder line.s-ack{stroke:" C_ACK "}"
    "svg.ladder .s-re{fill:" C_RETRANS "}"
    "svg.ladder line.s-re{stroke:" C_RETRANS ";stroke-dasharray:6 3}"
    "svg.ladder .s-nt{fill:" C_RETRANS ";font-weight:bold}"
    "svg.ladder .s-in{fill:" C_INFO "}"
    "svg.ladder .s-pv{fill:" C_MUTED "}"
    "</style>\n";

static void svg_open(struct sbuf *b, const char *cls, double w, double h, const char *label)
{
    sbuf_printf(b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" width=\"%.0f\" "
                "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" font-size=\"12\" "
                "role=\"img\" aria-label=\"",
                cls, w, h, w, h, FONT);
    esc_str(b, label);
    sbuf_printf(b, "\">\n<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", w, h);
}

/* Text; anchor "start", "middle" or "end". */
static void text(struct sbuf *b, double x, double y, const char *anchor, const char *attrs,
                 const char *s)
{
    sbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor,
                attrs && attrs[0] ? " " : "", attrs ? attrs : "");
    esc_str(b, s);
    sbuf_puts(b, "</text>\n");
}

/* A state name in a box of its colour; anchor as for text(). */
static void state_box(struct sbuf *b, double x, double y, const char *anchor, unsigned st)
{
    const char *name = state_name(st);
    double w = (double)strlen(name) * 11 * CHAR_W + 10, x0;
    if (strcmp(anchor, "end") == 0)
        x0 = x - w;
    else if (strcmp(anchor, "middle") == 0)
        x0 = x - w / 2;
    else
        x0 = x;
    sbuf_printf(b,
                "<g class=\"state\" data-state=\"%s\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"16\" rx=\"3\" fill=\"%s\" stroke=\"#90a4ae\" stroke-width=\"0.5\"/>",
                name, x0, y - 12, w, svg_state_color((enum tcp_state)st));
    sbuf_printf(b,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                "font-weight=\"bold\" fill=\"%s\">%s</text></g>\n",
                x0 + w / 2, y, C_TEXT, name);
}

static void endpoint_text(char *out, size_t size, const struct conn *c, int r)
{
    char a[INET6_TEXT_MAX];
    addr_text(c->family, c->ep[r].addr, a, sizeof a);
    snprintf(out, size, c->family == 6 ? "[%s]:%u" : "%s:%u", a, c->ep[r].port);
}

/* The largest power of ten times 1, 2 or 5 at most x (x > 0). */
static double nice_step(double x)
{
    double p = 1;
    while (p * 10 <= x)
        p *= 10;
    while (p > x)
        p /= 10;
    if (p * 5 <= x)
        return p * 5;
    if (p * 2 <= x)
        return p * 2;
    return p;
}

/* Digits after the point needed to print multiples of step. */
static int step_decimals(double step)
{
    int d = 0;
    double s = step;
    while (d < 9 && s < 0.999999) {
        s *= 10;
        d++;
    }
    return d;
}

/* Per-direction unwrapping of 32-bit relative numbers against a running reference. */
static int64_t unwrap(int64_t *ref, uint32_t v)
{
    int64_t r = *ref + (int32_t)(v - (uint32_t)*ref);
    if (r > *ref)
        *ref = r;
    return r;
}

static const char *dir_name(int d)
{
    return d == ROLE_CLIENT ? "c2s" : "s2c";
}

/* ================================================================ ladder */

#define L_W 900.0
#define L_X_FRAME 44.0
#define L_X_TIME 124.0
#define L_X_C 280.0
#define L_X_S 740.0
#define L_TOP 64.0
#define L_ROW 30.0
#define L_SLANT 10.0
#define L_GAP 28.0
#define L_LABEL_CHARS 60
#define L_GAP_NS 100000000LL /* a pause of 0.1 s or more gets a break in the lifelines */

static const char *seg_class(const struct svg_seg *s)
{
    if (s->flags & TCP_RST)
        return "s-rst";
    if (s->flags & TCP_SYN)
        return "s-syn";
    if (s->flags & TCP_FIN)
        return "s-fin";
    return s->len ? "s-dat" : "s-ack";
}

/* Payload preview as C-like text: "hello\n". */
static size_t preview_text(char *out, size_t size, const struct svg_seg *s)
{
    size_t k = 0;
    if (size < 8)
        return 0;
    out[k++] = '"';
    for (unsigned i = 0; i < s->n_preview && k + 4 < size; i++) {
        uint8_t c = s->preview[i];
        if (c == '\n' || c == '\r' || c == '\t') {
            out[k++] = '\\';
            out[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else {
            out[k++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '.';
        }
    }
    if (s->len > s->n_preview && k + 4 < size) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k++] = '"';
    out[k] = '\0';
    return k;
}

/* Notes on a segment: problems (drawn in red) or, with info set, facts worth seeing
 * (drawn in teal). */
static void notes_text(char *out, size_t size, const struct svg_seg *s, bool info)
{
    static const struct {
        uint8_t bit;
        bool info;
        const char *name;
    } names[] = {
        {SVG_N_FAST_RETRANS, false, "fast retransmission"},
        {SVG_N_RETRANS, false, "retransmission"},
        {SVG_N_OUT_OF_ORDER, false, "out-of-order"},
        {SVG_N_DUP_ACK, false, "dup ack"},
        {SVG_N_ZERO_WINDOW, false, "zero window"},
        {SVG_N_ABOVE_MSS, false, "above MSS: offload"},
        {SVG_N_KEEPALIVE, true, "keep-alive"},
        {SVG_N_WINDOW_PROBE, true, "window probe"},
    };
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(s->notes & names[i].bit) || names[i].info != info)
            continue;
        if (names[i].bit == SVG_N_RETRANS && (s->notes & SVG_N_FAST_RETRANS))
            continue; /* a fast retransmission is one */
        int n = snprintf(out + k, size - k, "%s%s", k ? ", " : "", names[i].name);
        if (n < 0 || (size_t)n >= size - k)
            break;
        k += (size_t)n;
    }
    if (info && !(s->notes & SVG_N_ABOVE_MSS) && s->len && s->peer_mss &&
        s->len + s->opt_len == s->peer_mss && k + 40 < size)
        snprintf(out + k, size - k, "%s%u+%u = MSS", k ? ", " : "", s->len, s->opt_len);
}

/* The label on an arrow (without notes): flags, relative numbers, options on a SYN. */
static void seg_label(char *out, size_t size, const struct svg_seg *s)
{
    char fl[12];
    textfmt_flags(fl, s->flags);
    int n = snprintf(out, size, "[%s]", fl);
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n >= 0 && (size_t)n < size)                                                            \
            n += snprintf(out + n, size - (size_t)n, __VA_ARGS__);                                 \
    } while (0)
    if (s->len > 0)
        ADD(" %u:%u", s->seq, s->seq + s->len);
    else if ((s->flags & (TCP_SYN | TCP_FIN | TCP_RST)) ||
             (s->notes & (SVG_N_KEEPALIVE | SVG_N_WINDOW_PROBE)))
        ADD(" seq %u", s->seq);
    if (s->flags & TCP_ACK)
        ADD(" ack %u", s->ack);
    if (s->len > 0)
        ADD(" len %u", s->len);
    if (s->n_sack) {
        ADD(" sack %u:%u", s->sack[0][0], s->sack[0][1]);
        if (s->n_sack > 1)
            ADD(" +%u", s->n_sack - 1u);
    }
    if (s->flags & TCP_SYN) {
        ADD(" win %u", s->raw_win);
        if (s->mss)
            ADD(" mss %u", s->mss);
        if (s->wscale != 0xff)
            ADD(" ws %u", s->wscale);
    } else if (s->raw_win == 0 && !(s->flags & TCP_RST)) {
        ADD(" win 0");
    }
#undef ADD
}

/* Fit a string into max characters, ending in "..." when cut. */
static void fit(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max && max > 3)
        memcpy(s + max - 3, "...", 4);
}

struct ladder_row {
    double y;        /* top of the row */
    bool gap_before; /* a pause before this row */
};

/* State changes of segment s: the new state per role (TCPS_COUNT = none). */
static void seg_states(const struct svg_conn *v, const struct svg_seg *s, unsigned st[2])
{
    st[0] = st[1] = TCPS_COUNT;
    for (size_t i = 0; i < v->n_evt; i++) {
        const struct svg_evt *e = &v->evt[i];
        if (e->frame == s->frame && e->ts_ns == s->ts_ns && e->endpoint < 2)
            st[e->endpoint] = e->to;
    }
}

/* Is event e caused by one of the drawn segments? */
static bool evt_on_segment(const struct svg_conn *v, const struct svg_evt *e)
{
    for (size_t i = 0; i < v->n_seg; i++)
        if (v->seg[i].frame == e->frame && v->seg[i].ts_ns == e->ts_ns)
            return true;
    return false;
}

static void initial_states(const struct svg_conn *v, unsigned init[2])
{
    for (int r = 0; r < 2; r++) {
        init[r] = v->c->ep[r].state;
        for (size_t i = 0; i < v->n_evt; i++) {
            if (v->evt[i].endpoint == r) {
                init[r] = v->evt[i].from;
                break;
            }
        }
    }
}

static void ladder_arrow(struct sbuf *b, const struct svg_conn *v, const struct svg_seg *s,
                         double y)
{
    int to_server = s->dir == ROLE_CLIENT;
    double x1 = to_server ? L_X_C : L_X_S, x2 = to_server ? L_X_S : L_X_C;
    double y1 = y + 16, y2 = y1 + L_SLANT;
    bool re = (s->notes & (SVG_N_RETRANS | SVG_N_FAST_RETRANS)) != 0;
    char letters[10], lab[200], notes[128], info[128], pv[64], tip[512], fl[12];
    textfmt_flag_letters(letters, s->flags);
    textfmt_flags(fl, s->flags);
    seg_label(lab, sizeof lab, s);
    notes_text(notes, sizeof notes, s, false);
    notes_text(info, sizeof info, s, true);
    pv[0] = '\0';
    if (s->n_preview)
        preview_text(pv, sizeof pv, s);

    double t = (double)(s->ts_ns - v->c->first_ns) / 1e9;
    const char *cn = to_server ? "client" : "server", *sn = to_server ? "server" : "client";
    snprintf(tip, sizeof tip,
             "frame %llu, %.6f s, %s\xe2\x86\x92%s [%s] seq %u ack %u win %u%s len %u%s%s%s%s%s%s",
             (unsigned long long)s->frame, t, cn, sn, fl, s->seq, s->ack, s->win,
             s->win != s->raw_win ? " (scaled)" : "", s->len, notes[0] || info[0] ? " (" : "",
             notes, notes[0] && info[0] ? ", " : "", info, notes[0] || info[0] ? ")" : "",
             s->n_sack ? ", SACK" : "");
    if (s->n_sack) {
        size_t k = strlen(tip);
        for (unsigned i = 0; i < s->n_sack && k + 24 < sizeof tip; i++)
            k += (size_t)snprintf(tip + k, sizeof tip - k, " %u-%u", s->sack[i][0], s->sack[i][1]);
    }

    sbuf_printf(b, "<g class=\"seg\" data-frame=\"%llu\" data-dir=\"%s\" data-flags=\"%s\">",
                (unsigned long long)s->frame, dir_name(s->dir), letters);
    sbuf_puts(b, "<title>");
    esc_str(b, tip);
    if (s->n_preview) {
        sbuf_puts(b, " ");
        esc_str(b, pv);
    }
    sbuf_puts(b, "</title>");
    /* the shaft stops at the head's base; the head is a small triangle */
    double dx = x2 - x1, dy = y2 - y1, len = dx < 0 ? -dx : dx;
    double ux = dx / len, uy = dy / len, hl = 9, hw = 4;
    double bx = x2 - ux * hl, by = y2 - uy * hl;
    const char *k = seg_class(s);
    sbuf_printf(b, "<line class=\"s-a %s%s\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                re ? "s-re" : k, s->len ? " s-d" : "", x1, y1, bx, by);
    sbuf_printf(b, "<path class=\"%s\" d=\"M%.0f %.0fL%.1f %.1fL%.1f %.1fZ\"/>", re ? "s-re" : k,
                x2, y2, bx - uy * hw, by + ux * hw, bx + uy * hw, by - ux * hw);

    /* label above the arrow: main text, then notes in red, then the preview if room */
    size_t room = L_LABEL_CHARS;
    fit(lab, room);
    size_t used = strlen(lab);
    char nt[140] = "", it[140] = "";
    if (notes[0] && used + 4 < room) {
        snprintf(nt, sizeof nt, " (%s)", notes);
        fit(nt, room - used);
        used += strlen(nt);
    }
    if (info[0] && used + strlen(info) + 3 <= room) { /* whole or not at all */
        snprintf(it, sizeof it, " (%s)", info);
        used += strlen(it);
    }
    char pvt[72] = "";
    if (pv[0] && used + 6 < room) {
        snprintf(pvt, sizeof pvt, " %s", pv);
        fit(pvt, room - used);
    }
    double lx = (L_X_C + L_X_S) / 2;
    sbuf_printf(b, "<text class=\"s-c %s\" x=\"%.0f\" y=\"%.0f\">", k, lx, y1 - 4);
    esc_str(b, lab);
    if (nt[0]) {
        sbuf_puts(b, "<tspan class=\"s-nt\">");
        esc_str(b, nt);
        sbuf_puts(b, "</tspan>");
    }
    if (it[0]) {
        sbuf_puts(b, "<tspan class=\"s-in\">");
        esc_str(b, it);
        sbuf_puts(b, "</tspan>");
    }
    if (pvt[0]) {
        sbuf_puts(b, "<tspan class=\"s-pv\">");
        esc_str(b, pvt);
        sbuf_puts(b, "</tspan>");
    }
    sbuf_puts(b, "</text></g>\n");
}

void svg_ladder(struct sbuf *b, const struct svg_conn *v)
{
    const struct conn *c = v->c;
    char ca[80], sa[80], buf[256];
    endpoint_text(ca, sizeof ca, c, ROLE_CLIENT);
    endpoint_text(sa, sizeof sa, c, ROLE_SERVER);

    /* lay the rows out: one per segment, one per state change no segment caused */
    size_t n_rows = v->n_seg;
    for (size_t i = 0; i < v->n_evt; i++)
        if (!evt_on_segment(v, &v->evt[i]))
            n_rows++;
    double y = L_TOP;
    int64_t prev_ts = c->first_ns;
    size_t si = 0, ei = 0;
    /* first pass: height */
    for (size_t k = 0; k < n_rows; k++) {
        const struct svg_evt *e = NULL;
        while (ei < v->n_evt && evt_on_segment(v, &v->evt[ei]))
            ei++;
        int64_t ts;
        if (ei < v->n_evt && (si >= v->n_seg || v->evt[ei].ts_ns < v->seg[si].ts_ns)) {
            e = &v->evt[ei++];
            ts = e->ts_ns;
        } else {
            ts = v->seg[si++].ts_ns;
        }
        if (k > 0 && ts - prev_ts >= L_GAP_NS)
            y += L_GAP;
        prev_ts = ts;
        y += L_ROW;
    }
    double h = y + 70 + (v->dropped ? 18 : 0);

    snprintf(buf, sizeof buf, "Ladder diagram of connection %llu: client %s, server %s",
             (unsigned long long)c->id, ca, sa);
    svg_open(b, "ladder", L_W, h, buf);
    sbuf_puts(b, ladder_style);

    /* header */
    sbuf_printf(b,
                "<text x=\"%.1f\" y=\"20\" text-anchor=\"middle\" font-size=\"13\"><tspan "
                "font-weight=\"bold\">client</tspan> %s</text>\n",
                L_X_C, ca);
    sbuf_printf(b,
                "<text x=\"%.1f\" y=\"20\" text-anchor=\"middle\" font-size=\"13\"><tspan "
                "font-weight=\"bold\">server</tspan> %s</text>\n",
                L_X_S, sa);
    text(b, L_X_FRAME, 46, "end", "font-size=\"11\" fill=\"" C_MUTED "\"", "frame");
    text(b, L_X_TIME, 46, "end", "font-size=\"11\" fill=\"" C_MUTED "\"", "time (s)");
    unsigned init[2];
    initial_states(v, init);
    state_box(b, L_X_C - 10, 46, "end", init[ROLE_CLIENT]);
    state_box(b, L_X_S + 10, 46, "start", init[ROLE_SERVER]);

    /* second pass: rows, collecting the pauses for the lifelines */
    y = L_TOP;
    prev_ts = c->first_ns;
    si = ei = 0;
    struct sbuf life = {0};
    double solid_from = 30;
    for (size_t k = 0; k < n_rows; k++) {
        while (ei < v->n_evt && evt_on_segment(v, &v->evt[ei]))
            ei++;
        const struct svg_evt *e = NULL;
        const struct svg_seg *s = NULL;
        if (ei < v->n_evt && (si >= v->n_seg || v->evt[ei].ts_ns < v->seg[si].ts_ns))
            e = &v->evt[ei++];
        else
            s = &v->seg[si++];
        int64_t ts = e ? e->ts_ns : s->ts_ns;
        if (k > 0 && ts - prev_ts >= L_GAP_NS) {
            /* a pause: dashed lifelines across it, and how long it was */
            for (int r = 0; r < 2; r++)
                sbuf_printf(&life,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                            "stroke-width=\"2\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                            "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
                            "stroke-dasharray=\"2 4\"/>\n",
                            r ? L_X_S : L_X_C, solid_from, r ? L_X_S : L_X_C, y + 4, C_LINE,
                            r ? L_X_S : L_X_C, y + 4, r ? L_X_S : L_X_C, y + L_GAP + 4, C_LINE);
            solid_from = y + L_GAP + 4;
            snprintf(buf, sizeof buf, "\xe2\x8b\xaf %.3f s later \xe2\x8b\xaf",
                     (double)(ts - prev_ts) / 1e9);
            text(b, (L_X_C + L_X_S) / 2, y + 17, "middle",
                 "font-size=\"11\" font-style=\"italic\" fill=\"" C_MUTED "\"", buf);
            y += L_GAP;
        }
        double t = (double)(ts - c->first_ns) / 1e9;
        sbuf_printf(b, "<text class=\"s-m s-e\" x=\"%.0f\" y=\"%.0f\">%.6f</text>", L_X_TIME,
                    y + 24, t);
        if (s) {
            sbuf_printf(b, "<text class=\"s-m s-e\" x=\"%.0f\" y=\"%.0f\">%llu</text>", L_X_FRAME,
                        y + 24, (unsigned long long)s->frame);
            ladder_arrow(b, v, s, y);
            unsigned st[2];
            seg_states(v, s, st);
            if (st[ROLE_CLIENT] < TCPS_COUNT)
                state_box(b, L_X_C - 10, y + 24, "end", st[ROLE_CLIENT]);
            if (st[ROLE_SERVER] < TCPS_COUNT)
                state_box(b, L_X_S + 10, y + 24, "start", st[ROLE_SERVER]);
        } else {
            /* a change no packet caused (2*MSL timer) */
            text(b, (L_X_C + L_X_S) / 2, y + 22, "middle",
                 "font-size=\"11\" font-style=\"italic\" fill=\"" C_MUTED "\"",
                 e->to == TCPS_CLOSED && e->from == TCPS_TIME_WAIT ? "(2\xc2\xb7MSL timer expired)"
                                                                   : "(timer)");
            if (e->endpoint == ROLE_CLIENT)
                state_box(b, L_X_C - 10, y + 24, "end", e->to);
            else
                state_box(b, L_X_S + 10, y + 24, "start", e->to);
        }
        prev_ts = ts;
        y += L_ROW;
    }
    for (int r = 0; r < 2; r++)
        sbuf_printf(&life,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/>\n",
                    r ? L_X_S : L_X_C, solid_from, r ? L_X_S : L_X_C, y + 8, C_LINE);
    if (life.p)
        sbuf_put(b, life.p, life.len);
    sbuf_free(&life);

    /* footer: final states, how it ended, what was left out */
    state_box(b, L_X_C - 10, y + 26, "end", c->ep[ROLE_CLIENT].state);
    state_box(b, L_X_S + 10, y + 26, "start", c->ep[ROLE_SERVER].state);
    const char *closer = conn_active_closer(c);
    snprintf(buf, sizeof buf, "final states; close: %.20s%s%.10s%s",
             close_kind_name((enum close_kind)c->close), closer ? " by " : "", closer ? closer : "",
             c->midstream ? "; capture starts mid-stream" : "");
    text(b, (L_X_C + L_X_S) / 2, y + 26, "middle", "font-size=\"11\" fill=\"" C_MUTED "\"", buf);
    if (v->dropped) {
        snprintf(buf, sizeof buf,
                 "%llu more segments not drawn (at most %u per connection: --max-segments)",
                 (unsigned long long)v->dropped, v->max_segments);
        sbuf_printf(b,
                    "<text class=\"dropped\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    "font-size=\"12\" fill=\"%s\">",
                    (L_X_C + L_X_S) / 2, y + 46, C_RST);
        esc_str(b, buf);
        sbuf_puts(b, "</text>\n");
    }
    sbuf_puts(b, "</svg>\n");
}

/* ================================================================ time-sequence graph */

#define T_W 900.0
#define T_H 330.0
#define T_X0 84.0
#define T_X1 880.0
#define T_Y0 44.0
#define T_Y1 276.0

/* The time axis of the time-sequence graph.  Long pauses (a gap between segments
 * larger than a fifth of the time left uncut) are cut down to a narrow grey band
 * labelled with their length, so that a zero-window stall or keep-alive idling does
 * not squeeze the bursts around it into a line (a pause is cut when it is at least 1 ms,
 * 25 times the median gap, and a fifth of the time left uncut).  Each stretch between cuts (a
 * piece) is linear. */
#define AX_MAX_CUTS 12
#define AX_CUT_W 26.0
#define AX_PAD 12.0
#define AX_CUT_SHARE 0.2   /* of the time left uncut */
#define AX_CUT_MIN 0.001   /* s: never cut a pause shorter than this */
#define AX_CUT_MEDIAN 25.0 /* times the median gap */

struct time_axis {
    size_t n;                                        /* pieces */
    double a[AX_MAX_CUTS + 1], b[AX_MAX_CUTS + 1];   /* piece time range (s) */
    double xa[AX_MAX_CUTS + 1], xb[AX_MAX_CUTS + 1]; /* piece x range */
};

static int cmp_double(const void *x, const void *y)
{
    double p = *(const double *)x, q = *(const double *)y;
    return p < q ? -1 : p > q;
}

static void axis_build(struct time_axis *ax, const struct svg_conn *v, double x0, double x1)
{
    memset(ax, 0, sizeof *ax);
    size_t n = 0;
    double *t = malloc((v->n_seg ? v->n_seg : 1) * sizeof *t);
    bool *cut = calloc(v->n_seg ? v->n_seg : 1, sizeof *cut);
    if (t && cut) {
        for (size_t i = 0; i < v->n_seg; i++)
            t[n++] = (double)(v->seg[i].ts_ns - v->c->first_ns) / 1e9;
        qsort(t, n, sizeof *t, cmp_double);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (u == 0 || t[i] != t[u - 1])
                t[u++] = t[i];
        n = u;
    } else {
        n = 0;
    }
    if (n < 2) {
        ax->n = 1;
        ax->a[0] = n ? t[0] : 0;
        ax->b[0] = ax->a[0];
    } else {
        /* the typical gap: the median */
        double *gaps = malloc((n - 1) * sizeof *gaps);
        double median = 0;
        if (gaps) {
            for (size_t i = 0; i + 1 < n; i++)
                gaps[i] = t[i + 1] - t[i];
            qsort(gaps, n - 1, sizeof *gaps, cmp_double);
            median = gaps[(n - 1) / 2];
            free(gaps);
        }
        /* cut the largest gap while it is more than a fifth of what is left uncut, at
         * least AX_CUT_MIN, and far above the typical gap */
        size_t n_cut = 0;
        while (n_cut < AX_MAX_CUTS) {
            double active = 0, big = 0;
            size_t at = 0;
            for (size_t i = 0; i + 1 < n; i++) {
                if (cut[i])
                    continue;
                double g = t[i + 1] - t[i];
                active += g;
                if (g > big) {
                    big = g;
                    at = i;
                }
            }
            if (big < AX_CUT_MIN || big <= AX_CUT_SHARE * active || big < AX_CUT_MEDIAN * median)
                break;
            cut[at] = true;
            n_cut++;
        }
        ax->n = 0;
        ax->a[0] = t[0];
        for (size_t i = 0; i + 1 < n; i++) {
            if (cut[i]) {
                ax->b[ax->n++] = t[i];
                ax->a[ax->n] = t[i + 1];
            }
        }
        ax->b[ax->n++] = t[n - 1];
    }
    free(t);
    free(cut);
    /* widths: a pad per piece, a band per cut, the rest in proportion to duration */
    double active = 0;
    for (size_t i = 0; i < ax->n; i++)
        active += ax->b[i] - ax->a[i];
    double avail = (x1 - x0) - (double)(ax->n - 1) * AX_CUT_W - (double)ax->n * AX_PAD;
    double x = x0;
    for (size_t i = 0; i < ax->n; i++) {
        double w =
            AX_PAD + (active > 0 ? (ax->b[i] - ax->a[i]) / active * avail : avail / (double)ax->n);
        ax->xa[i] = x;
        ax->xb[i] = x + w;
        x += w + AX_CUT_W;
    }
}

static double axis_x(const struct time_axis *ax, double t)
{
    size_t i = 0;
    while (i + 1 < ax->n && t > ax->b[i])
        i++;
    double inner0 = ax->xa[i] + AX_PAD / 2, inner1 = ax->xb[i] - AX_PAD / 2;
    if (ax->b[i] <= ax->a[i])
        return (inner0 + inner1) / 2;
    if (t < ax->a[i])
        t = ax->a[i];
    if (t > ax->b[i])
        t = ax->b[i];
    return inner0 + (t - ax->a[i]) / (ax->b[i] - ax->a[i]) * (inner1 - inner0);
}

/* Grid lines and labels per piece, and a grey band with its length per cut. */
static void axis_draw(struct sbuf *b, const struct time_axis *ax, double ytop, double ybot)
{
    char buf[48];
    double last_label = -1e9;
    for (size_t i = 0; i < ax->n; i++) {
        double a = ax->a[i], z = ax->b[i], w = ax->xb[i] - ax->xa[i];
        if (z <= a) {
            double x = axis_x(ax, a);
            sbuf_printf(b,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#eceff1\"/>",
                        x, ytop, x, ybot);
            if (x - last_label >= 66) {
                snprintf(buf, sizeof buf, "%.6f", a);
                text(b, x, ybot + 16, "middle", "font-size=\"11\" fill=\"" C_MUTED "\"", buf);
                last_label = x;
            }
        } else {
            double st = nice_step((z - a) / (w / 110 > 1 ? w / 110 : 1));
            int dec = step_decimals(st);
            double first = (double)(long long)(a / st) * st;
            if (first < a - st * 1e-9)
                first += st;
            for (double t = first; t <= z + st * 1e-9; t += st) {
                double x = axis_x(ax, t);
                sbuf_printf(b,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#eceff1\"/>",
                            x, ytop, x, ybot);
                if (x - last_label >= 66) {
                    snprintf(buf, sizeof buf, "%.*f", dec, t);
                    text(b, x, ybot + 16, "middle", "font-size=\"11\" fill=\"" C_MUTED "\"", buf);
                    last_label = x;
                }
            }
        }
        if (i + 1 < ax->n) {
            double x = ax->xb[i], mid = x + AX_CUT_W / 2, ym = (ytop + ybot) / 2;
            sbuf_printf(b,
                        "<g class=\"cut\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\" fill=\"#e0e0e0\" opacity=\"0.7\"/>",
                        x, ytop, AX_CUT_W, ybot - ytop);
            snprintf(buf, sizeof buf, "%.3f s pause", ax->a[i + 1] - ax->b[i]);
            sbuf_printf(b,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                        "fill=\"%s\" transform=\"rotate(-90 %.1f %.1f)\">%s</text></g>\n",
                        mid + 4, ym, C_MUTED, mid + 4, ym, buf);
        }
    }
}

struct tseq_scale {
    const struct time_axis *ax;
    double s0, s1; /* sequence numbers */
    double yoff;   /* panel offset */
};

static double tx(const struct tseq_scale *k, double t)
{
    return axis_x(k->ax, t);
}

static double sy(const struct tseq_scale *k, double s)
{
    return k->yoff + T_Y1 - (s - k->s0) / (k->s1 - k->s0) * (T_Y1 - T_Y0);
}

static void legend_item(struct sbuf *b, double *x, double y, const char *color, const char *dash,
                        const char *name)
{
    sbuf_printf(b,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"3\"%s%s%s/>",
                *x, y - 4, *x + 18, y - 4, color, dash ? " stroke-dasharray=\"" : "",
                dash ? dash : "", dash ? "\"" : "");
    text(b, *x + 22, y, "start", "font-size=\"11\"", name);
    *x += 22 + (double)strlen(name) * 11 * CHAR_W + 16;
}

/* Does direction d carry payload in the drawn segments? */
static bool dir_has_data(const struct svg_conn *v, int d)
{
    for (size_t i = 0; i < v->n_seg; i++)
        if (v->seg[i].dir == d && v->seg[i].len)
            return true;
    return false;
}

static void tseq_panel(struct sbuf *b, const struct svg_conn *v, const struct time_axis *ax, int d,
                       double yoff)
{
    const struct conn *c = v->c;
    int r = 1 - d;
    char buf[200], ep_d[80], ep_r[80];
    endpoint_text(ep_d, sizeof ep_d, c, d);
    endpoint_text(ep_r, sizeof ep_r, c, r);
    struct tseq_scale k = {.ax = ax, .yoff = yoff};
    int64_t base = c->first_ns;

    /* ranges: time over every drawn segment; sequence over data, acks and SACKs of
     * this direction; the window edge only when it is not far above the rest */
    int64_t ref_s = 0, ref_a = 0;
    double smax = 1, wmax = 0;
    for (size_t i = 0; i < v->n_seg; i++) {
        const struct svg_seg *s = &v->seg[i];
        if (s->dir == d && s->seq_ok) {
            int64_t e =
                unwrap(&ref_s, s->seq) + s->len + ((s->flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
            if ((double)e > smax)
                smax = (double)e;
        } else if (s->dir == r && s->ack_ok && (s->flags & TCP_ACK)) {
            int64_t a = unwrap(&ref_a, s->ack);
            if ((double)a > smax)
                smax = (double)a;
            if ((double)(a + s->win) > wmax)
                wmax = (double)(a + s->win);
        }
    }
    if (wmax > smax && wmax <= smax * 2)
        smax = wmax;
    k.s0 = 0;
    k.s1 = smax * 1.05;

    /* title and legend */
    uint64_t bytes = tcp_endpoint_bytes(&c->ep[d]);
    snprintf(buf, sizeof buf, "%s \xe2\x86\x92 %s: %s \xe2\x86\x92 %s, %llu bytes",
             d == ROLE_CLIENT ? "client" : "server", d == ROLE_CLIENT ? "server" : "client", ep_d,
             ep_r, (unsigned long long)bytes);
    sbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">", T_X0,
                yoff + 18);
    esc_str(b, buf);
    sbuf_puts(b, "</text>\n");
    double lx = T_X0;
    legend_item(b, &lx, yoff + 36, C_DATA, NULL, "data");
    legend_item(b, &lx, yoff + 36, C_RETRANS, NULL, "retransmission");
    legend_item(b, &lx, yoff + 36, C_SYN, NULL, "ACK");
    legend_item(b, &lx, yoff + 36, C_WIN, "6 3",
                wmax > k.s1 ? "window (ACK + rwnd; above the plot)" : "window (ACK + rwnd)");
    legend_item(b, &lx, yoff + 36, C_SACK, NULL, "SACK");

    /* frame, grid and ticks */
    sbuf_printf(b,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fcfcfc\" "
                "stroke=\"#90a4ae\"/>\n",
                T_X0, yoff + T_Y0, T_X1 - T_X0, T_Y1 - T_Y0);
    axis_draw(b, ax, yoff + T_Y0, yoff + T_Y1);
    double ss = nice_step((k.s1 - k.s0) / 5);
    if (ss < 1)
        ss = 1;
    for (double s = 0; s <= k.s1; s += ss) {
        double yy = sy(&k, s);
        sbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eceff1\"/>",
                    T_X0, yy, T_X1, yy);
        snprintf(buf, sizeof buf, "%.0f", s);
        text(b, T_X0 - 6, yy + 4, "end", "font-size=\"11\" fill=\"" C_MUTED "\"", buf);
    }
    text(b, (T_X0 + T_X1) / 2, yoff + T_Y1 + 34, "middle", "font-size=\"11\" fill=\"" C_MUTED "\"",
         ax->n > 1 ? "time since the connection's first packet (s); grey bands: pauses cut short"
                   : "time since the connection's first packet (s)");
    sbuf_printf(b,
                "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"%s\" "
                "transform=\"rotate(-90 14 %.1f)\">relative sequence number</text>\n",
                yoff + (T_Y0 + T_Y1) / 2, C_MUTED, yoff + (T_Y0 + T_Y1) / 2);

    /* the drawing, clipped to the plot by construction (values clamped) */
    struct sbuf ack = {0}, win = {0}, data = {0}, re = {0}, sack = {0}, mark = {0};
    ref_s = ref_a = 0;
    int64_t ref_k = 0;
    double last_ack_x = -1;
    double ytop = yoff + T_Y0, ybot = yoff + T_Y1;
    /* values beyond the plot are drawn just outside it, and the clip path hides them */
#define CLAMPY(y) ((y) < ytop - 8 ? ytop - 8 : (y) > ybot + 8 ? ybot + 8 : (y))
    for (size_t i = 0; i < v->n_seg; i++) {
        const struct svg_seg *s = &v->seg[i];
        double x = tx(&k, (double)(s->ts_ns - base) / 1e9);
        if (s->dir == d && s->seq_ok) {
            int64_t s0 = unwrap(&ref_s, s->seq);
            if (s0 < 0)
                continue;
            if (s->len) {
                double ya = sy(&k, (double)s0), yb = sy(&k, (double)(s0 + s->len));
                bool r_ = (s->notes & (SVG_N_RETRANS | SVG_N_FAST_RETRANS)) != 0;
                sbuf_printf(r_ ? &re : &data, "M%.1f %.1fV%.1fM%.1f %.1fh6M%.1f %.1fh6", x,
                            CLAMPY(ya), CLAMPY(yb), x - 3, CLAMPY(ya), x - 3, CLAMPY(yb));
            }
            if (s->flags & (TCP_SYN | TCP_FIN | TCP_RST)) {
                double ym = CLAMPY(sy(&k, (double)(s0 + s->len)));
                const char *col = (s->flags & TCP_RST)   ? C_RST
                                  : (s->flags & TCP_SYN) ? C_SYN
                                                         : C_FIN;
                const char *nm = (s->flags & TCP_RST)   ? "RST"
                                 : (s->flags & TCP_SYN) ? "SYN"
                                                        : "FIN";
                bool left = x > T_X1 - 40;
                sbuf_printf(&mark,
                            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/><text "
                            "x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\"%s>%s</text>",
                            x, ym, col, left ? x - 5 : x + 5, ym - 5, col,
                            left ? " text-anchor=\"end\"" : "", nm);
            }
        } else if (s->dir == r && s->ack_ok && (s->flags & TCP_ACK)) {
            int64_t a = unwrap(&ref_a, s->ack);
            if (a < 0)
                continue;
            double ya = CLAMPY(sy(&k, (double)a)), yw = CLAMPY(sy(&k, (double)(a + s->win)));
            if (last_ack_x < 0) {
                sbuf_printf(&ack, "M%.1f %.1f", x, ya);
                sbuf_printf(&win, "M%.1f %.1f", x, yw);
            } else {
                sbuf_printf(&ack, "H%.1fV%.1f", x, ya);
                sbuf_printf(&win, "H%.1fV%.1f", x, yw);
            }
            last_ack_x = x;
            for (unsigned j = 0; j < s->n_sack && j < SVG_MAX_SACK; j++) {
                int64_t l = unwrap(&ref_k, s->sack[j][0]);
                int64_t h = l + (int32_t)(s->sack[j][1] - s->sack[j][0]);
                if (l < 0 || h < l)
                    continue;
                sbuf_printf(&sack, "M%.1f %.1fV%.1f", x + 2, CLAMPY(sy(&k, (double)l)),
                            CLAMPY(sy(&k, (double)h)));
            }
        }
    }
#undef CLAMPY
    sbuf_printf(
        b,
        "<clipPath id=\"tseq-clip-%llu-%d\"><rect x=\"%.1f\" y=\"%.1f\" "
        "width=\"%.1f\" height=\"%.1f\"/></clipPath>\n<g clip-path=\"url(#tseq-clip-%llu-%d)\">\n",
        (unsigned long long)c->id, d, T_X0, ytop - 3, T_X1 - T_X0 + 3, T_Y1 - T_Y0 + 6,
        (unsigned long long)c->id, d);
    if (last_ack_x >= 0) {
        sbuf_printf(&ack, "H%.1f", T_X1);
        sbuf_printf(&win, "H%.1f", T_X1);
        /* the window edge on top, dashed: with a zero window it lies on the ACK line */
        sbuf_printf(
            b, "<path class=\"ack\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
            ack.p, C_SYN);
        sbuf_printf(b,
                    "<path class=\"win\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                    "stroke-dasharray=\"6 3\"/>\n",
                    win.p, C_WIN);
    }
    if (data.p)
        sbuf_printf(
            b, "<path class=\"data\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
            data.p, C_DATA);
    if (re.p)
        sbuf_printf(
            b,
            "<path class=\"retrans\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n",
            re.p, C_RETRANS);
    if (sack.p)
        sbuf_printf(
            b, "<path class=\"sack\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\"/>\n",
            sack.p, C_SACK);
    if (mark.p)
        sbuf_put(b, mark.p, mark.len);
    sbuf_puts(b, "</g>\n");
    sbuf_free(&ack);
    sbuf_free(&win);
    sbuf_free(&data);
    sbuf_free(&re);
    sbuf_free(&sack);
    sbuf_free(&mark);
}

void svg_tseq(struct sbuf *b, const struct svg_conn *v)
{
    const struct conn *c = v->c;
    int dirs[2], n = 0;
    for (int d = 0; d < 2; d++)
        if (dir_has_data(v, d))
            dirs[n++] = d;
    char buf[200], ca[80];
    endpoint_text(ca, sizeof ca, c, ROLE_CLIENT);
    snprintf(buf, sizeof buf, "Time-sequence graph of connection %llu (client %s)",
             (unsigned long long)c->id, ca);
    double h = n ? T_H * n + 10 : 40;
    if (v->dropped)
        h += 18;
    svg_open(b, "tseq", T_W, h, buf);
    if (!n)
        text(b, T_X0, 24, "start", "fill=\"" C_MUTED "\"",
             "no data in either direction: nothing to plot");
    struct time_axis ax;
    axis_build(&ax, v, T_X0, T_X1);
    for (int i = 0; i < n; i++)
        tseq_panel(b, v, &ax, dirs[i], T_H * i);
    if (v->dropped) {
        snprintf(buf, sizeof buf, "only the first %u segments are plotted (%llu more not drawn)",
                 v->max_segments, (unsigned long long)v->dropped);
        sbuf_printf(b,
                    "<text class=\"dropped\" x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"%s\">",
                    T_X0, h - 6, C_RST);
        esc_str(b, buf);
        sbuf_puts(b, "</text>\n");
    }
    sbuf_puts(b, "</svg>\n");
}

/* ================================================================ state timeline */

#define S_W 900.0
#define S_X0 84.0
#define S_X1 880.0
#define S_BAND 28.0
#define S_MIN_LINEAR 64.0 /* narrower intervals switch to one equal width per change */
#define S_MAX_TIMES 64

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void svg_states(struct sbuf *b, const struct svg_conn *v)
{
    const struct conn *c = v->c;
    char buf[200];
    /* the boundaries: start, every change time, end of the capture of this connection */
    int64_t times[S_MAX_TIMES + 2];
    size_t nt = 0;
    times[nt++] = c->first_ns;
    int64_t end = c->last_ns;
    for (size_t i = 0; i < v->n_evt; i++) {
        if (v->evt[i].ts_ns > end)
            end = v->evt[i].ts_ns;
        if (nt < S_MAX_TIMES)
            times[nt++] = v->evt[i].ts_ns;
    }
    times[nt++] = end;
    qsort(times, nt, sizeof times[0], cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < nt; i++)
        if (u == 0 || times[i] != times[u - 1])
            times[u++] = times[i];
    nt = u;
    /* x of each boundary, with a lead-in for the state before the first packet and a
     * tail for the final state */
    double width = S_X1 - S_X0;
    double total = (double)(times[nt - 1] - times[0]);
    bool linear = total > 0;
    double lead = width * 0.1, tail = width * 0.1;
    if (linear) {
        for (size_t i = 0; i + 1 < nt; i++)
            if ((double)(times[i + 1] - times[i]) / total * (width - lead - tail) < S_MIN_LINEAR)
                linear = false;
    }
    double xs[S_MAX_TIMES + 2];
    for (size_t i = 0; i < nt; i++) {
        if (linear)
            xs[i] = S_X0 + lead + (double)(times[i] - times[0]) / total * (width - lead - tail);
        else
            xs[i] = S_X0 + width * (double)(i + 1) / (double)(nt + 1);
    }
    double x_end = S_X1;

    double h = 200;
    snprintf(buf, sizeof buf, "States of both endpoints of connection %llu over time",
             (unsigned long long)c->id);
    svg_open(b, "states", S_W, h, buf);
    text(b, S_X0, 18, "start", "font-size=\"11\" fill=\"" C_MUTED "\"",
         linear ? "time to scale" : "not to scale: one equal step per change (times below)");

    /* boundary ticks with times since the first packet (labels skip when crowded),
     * under the bands */
    double ty = 34 + 2 * (S_BAND + 14);
    double last_lx = -100;
    for (size_t i = 0; i < nt; i++) {
        sbuf_printf(b,
                    "<line x1=\"%.1f\" y1=\"30\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b0bec5\" "
                    "stroke-dasharray=\"2 2\"/>",
                    xs[i], xs[i], ty);
        if (xs[i] - last_lx >= 62) {
            snprintf(buf, sizeof buf, "%.6f", (double)(times[i] - times[0]) / 1e9);
            text(b, xs[i], ty + 12, "middle", "font-size=\"10\" fill=\"" C_MUTED "\"", buf);
            last_lx = xs[i];
        }
    }
    unsigned init[2];
    initial_states(v, init);
    unsigned used = 0;
    for (int r = 0; r < 2; r++) {
        double y = 34 + r * (S_BAND + 14);
        text(b, S_X0 - 8, y + 19, "end", "font-weight=\"bold\"", r ? "server" : "client");
        unsigned st = init[r];
        double x = S_X0;
        int64_t t_from = times[0];
        bool before = true; /* the first band is the state before the first packet */
        uint64_t f_from = c->first_frame;
        for (size_t i = 0; i <= v->n_evt; i++) {
            const struct svg_evt *e = NULL;
            if (i < v->n_evt) {
                e = &v->evt[i];
                if (e->endpoint != r)
                    continue;
            }
            double x2 = x_end;
            if (e) {
                size_t j = 0;
                while (j < nt && times[j] != e->ts_ns)
                    j++;
                x2 = j < nt ? xs[j] : x_end;
            }
            if (x2 > x || !e) {
                used |= 1u << (st < TCPS_COUNT ? st : 0);
                const char *nm = state_name(st);
                sbuf_printf(b, "<g class=\"band\" data-endpoint=\"%s\" data-state=\"%s\">",
                            r ? "server" : "client", nm);
                if (before)
                    snprintf(buf, sizeof buf, "%s %s from before the first packet",
                             r ? "server" : "client", nm);
                else
                    snprintf(buf, sizeof buf, "%s %s from %.6f s (frame %llu)%s",
                             r ? "server" : "client", nm, (double)(t_from - c->first_ns) / 1e9,
                             (unsigned long long)f_from, e ? "" : " to the end");
                sbuf_puts(b, "<title>");
                esc_str(b, buf);
                sbuf_puts(b, "</title>");
                sbuf_printf(b,
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                            "fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\"/>",
                            x, y, x2 - x, S_BAND, svg_state_color((enum tcp_state)st));
                if ((double)strlen(nm) * 11 * CHAR_W + 6 < x2 - x)
                    sbuf_printf(b,
                                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                                "font-size=\"11\" font-weight=\"bold\" fill=\"%s\">%s</text>",
                                (x + x2) / 2, y + 18, C_TEXT, nm);
                sbuf_puts(b, "</g>\n");
            }
            if (!e)
                break;
            x = x2;
            before = false;
            st = e->to;
            t_from = e->ts_ns;
            f_from = e->frame;
        }
    }
    text(b, S_X0 - 30, ty + 12, "end", "font-size=\"10\" fill=\"" C_MUTED "\"", "time (s)");
    /* legend of the states that appear */
    double lx = S_X0, ly = ty + 40;
    for (unsigned s = 0; s < TCPS_COUNT; s++) {
        if (!(used & (1u << s)))
            continue;
        const char *nm = state_name(s);
        double w = (double)strlen(nm) * 10 * CHAR_W + 24;
        if (lx + w > S_X1) {
            lx = S_X0;
            ly += 18;
        }
        sbuf_printf(b,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\" "
                    "stroke=\"#90a4ae\" stroke-width=\"0.5\"/>",
                    lx, ly - 10, svg_state_color((enum tcp_state)s));
        text(b, lx + 16, ly, "start", "font-size=\"10\"", nm);
        lx += w;
    }
    sbuf_puts(b, "</svg>\n");
}
