/* textfmt.h - text renderings shared by the text sinks: the tcpdump-style body of a
 * packet line, the connection table row, the totals block, and small name tables.
 *
 * Pipeline place: used by sinks only.  Pure formatting: no state, no I/O beyond the
 * output buffer passed in.
 */
#ifndef SYNACK_TEXTFMT_H
#define SYNACK_TEXTFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "outbuf.h"
#include "synack/sink.h"

struct textfmt_opts {
    bool absolute_seq; /* -S */
    bool link_header;  /* -e */
    int verbose;       /* -v */
};

/* Everything of a packet line after the timestamp, without the newline. */
void textfmt_packet(struct outbuf *b, const struct packet *p, const struct track_info *ti,
                    const struct textfmt_opts *o);

/* tcpdump's flag notation into out (at least 9 bytes): "S.", "P.", "none". */
void textfmt_flags(char *out, uint8_t flags);

/* JSON/NDJSON flag letters in the fixed order FSRPAUEC: "SA", "FA", "". */
void textfmt_flag_letters(char *out, uint8_t flags);

/* The TCP options in tcpdump's notation, without brackets. */
void textfmt_tcp_options(struct outbuf *b, const struct pkt_tcp *tcp, uint32_t sack_base);

/* Connection table: header line and one row per connection (each ends in '\n').
 * Return the length written (truncated to size - 1). */
size_t textfmt_conn_header(char *out, size_t size);
size_t textfmt_conn_row(char *out, size_t size, const struct conn *c);

/* The totals block. */
void textfmt_totals(struct outbuf *b, const struct run_totals *t);

#endif
