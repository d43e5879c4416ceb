/* sink_text.c - tcpdump-like packet lines, the state-event log, the connection
 * table and the end-of-run totals.
 *
 * Pipeline place: tcp tracker -> [text sink].  Each packet line is built in the
 * output buffer and written in large chunks (per packet when live).  The connection
 * table is collected in a temporary file (rows keep memory flat however many
 * connections a capture has) and printed in id order at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"
#include "spool.h"
#include "synack/sink.h"
#include "textfmt.h"
#include "timefmt.h"

struct text_sink {
    struct sink base;
    struct sink_opts o;
    struct timefmt tf;
    struct spool rows;     /* formatted table rows, printed in id order at the end */
    struct outbuf out;     /* last: large */
};

/* ---------------------------------------------------------------- packet lines */

static void put_payload_ascii(struct outbuf *b, const uint8_t *d, uint32_t n)
{
    outbuf_putc(b, '\n');
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (c == '\r' && i + 1 < n && d[i + 1] == '\n')
            continue;
        outbuf_putc(b, (c == '\n' || (c >= 0x20 && c < 0x7f)) ? (char)c : '.');
    }
}

static void put_payload_hex(struct outbuf *b, const uint8_t *d, uint32_t n)
{
    for (uint32_t line = 0; line < n; line += 16) {
        uint32_t k = n - line < 16 ? n - line : 16;
        outbuf_puts(b, "\n\t0x");
        outbuf_hex(b, line, 4);
        outbuf_puts(b, ": ");
        for (uint32_t i = 0; i < 16; i++) {
            if (i % 2 == 0)
                outbuf_putc(b, ' ');
            if (i < k)
                outbuf_hex(b, d[line + i], 2);
            else
                outbuf_puts(b, "  ");
        }
        outbuf_puts(b, "  ");
        for (uint32_t i = 0; i < k; i++) {
            uint8_t c = d[line + i];
            outbuf_putc(b, (c >= 0x20 && c < 0x7f) ? (char)c : '.');
        }
    }
}

static void text_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    struct text_sink *t = (struct text_sink *)s;
    if (!(t->o.mode & SINK_PACKETS))
        return;
    struct outbuf *b = &t->out;
    timefmt_packet(&t->tf, b, p->ts_ns);
    struct textfmt_opts fo = {
        .absolute_seq = t->o.absolute_seq,
        .link_header = t->o.link_header,
        .verbose = t->o.verbose,
    };
    textfmt_packet(b, p, ti, &fo);
    if ((t->o.ascii || t->o.hex) && p->l4 == L4_TCP && p->tcp_valid &&
        p->u.tcp.payload_caplen > 0) {
        if (t->o.hex)
            put_payload_hex(b, p->u.tcp.payload, p->u.tcp.payload_caplen);
        else
            put_payload_ascii(b, p->u.tcp.payload, p->u.tcp.payload_caplen);
    }
    outbuf_putc(b, '\n');
    if (t->o.live)
        outbuf_flush(b);
    else
        outbuf_maybe_flush(b);
}

/* ---------------------------------------------------------------- events */

static void text_event(struct sink *s, const struct tcp_event *e)
{
    struct text_sink *t = (struct text_sink *)s;
    if (!(t->o.mode & SINK_EVENTS))
        return;
    struct outbuf *b = &t->out;
    timefmt_packet(&t->tf, b, e->ts_ns);
    outbuf_putc(b, '#');
    outbuf_u64(b, e->conn);
    outbuf_puts(b, " frame ");
    outbuf_u64(b, e->frame);
    outbuf_putc(b, ' ');
    outbuf_puts(b, e->endpoint == ROLE_CLIENT ? "client " : "server ");
    outbuf_puts(b, tcp_state_name(e->from));
    outbuf_puts(b, "\xe2\x86\x92"); /* → */
    outbuf_puts(b, tcp_state_name(e->to));
    outbuf_puts(b, " (");
    outbuf_puts(b, e->cause);
    outbuf_puts(b, ")\n");
    if (t->o.live)
        outbuf_flush(b);
    else
        outbuf_maybe_flush(b);
}

/* ---------------------------------------------------------------- connection table */

static void text_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    (void)why;
    struct text_sink *t = (struct text_sink *)s;
    if (!(t->o.mode & SINK_SUMMARY))
        return;
    char line[512];
    size_t n = textfmt_conn_row(line, sizeof line, c);
    spool_add(&t->rows, c->id, 0, line, n);
}

static void print_table(struct text_sink *t)
{
    struct outbuf *b = &t->out;
    outbuf_puts(b, "\nConnections: ");
    outbuf_u64(b, spool_count(&t->rows) + t->rows.lost);
    outbuf_putc(b, '\n');
    if (spool_count(&t->rows) + t->rows.lost == 0)
        return;
    char line[512];
    textfmt_conn_header(line, sizeof line);
    outbuf_puts(b, line);
    spool_replay(&t->rows, b);
}

/* ---------------------------------------------------------------- totals */

static void text_finish(struct sink *s, const struct run_totals *tot)
{
    struct text_sink *t = (struct text_sink *)s;
    outbuf_flush(&t->out);
    t->out.lossy = false; /* the capture is over: the summary may wait for the reader */
    if (t->out.dropped_lines)
        outbuf_printf(&t->out, "\nOutput: %llu lines (%llu bytes) not printed: standard output "
                               "could not keep up with the capture\n",
                      (unsigned long long)t->out.dropped_lines,
                      (unsigned long long)t->out.dropped_bytes);
    if (t->o.mode & SINK_SUMMARY)
        print_table(t);
    if (t->o.mode & SINK_TOTALS)
        textfmt_totals(&t->out, tot);
    outbuf_flush(&t->out);
}

static void text_destroy(struct sink *s)
{
    struct text_sink *t = (struct text_sink *)s;
    outbuf_flush(&t->out);
    spool_close(&t->rows);
    free(t);
}

static const struct sink_ops text_ops = {
    .packet = text_packet,
    .event = text_event,
    .conn_end = text_conn_end,
    .finish = text_finish,
    .destroy = text_destroy,
};

struct sink *sink_text_new(const struct sink_opts *o)
{
    struct text_sink *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->base.ops = &text_ops;
    t->o = *o;
    timefmt_init(&t->tf, (enum time_mode)o->time_mode, o->nano);
    outbuf_init(&t->out, o->fd);
    t->out.lossy = o->live;
    if (o->mode & SINK_SUMMARY)
        spool_open(&t->rows); /* a failure is counted and reported with the table */
    return &t->base;
}
