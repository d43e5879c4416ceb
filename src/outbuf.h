/* outbuf.h - build output in a buffer and write it in large chunks.
 *
 * Pipeline place: used by the sinks.  Appends never fail: the buffer is flushed to
 * its descriptor when it fills (linenoise's abuf idea, but fixed-size, so the
 * per-packet path never allocates).  Write errors are remembered, not retried.
 */
#ifndef SYNACK_OUTBUF_H
#define SYNACK_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OUTBUF_SIZE (256u * 1024u)
#define OUTBUF_SLACK 4096u /* room kept free so one field never needs a flush mid-way */

struct outbuf {
    int fd;
    size_t len;
    bool failed;       /* a write failed (EPIPE, ENOSPC, ...) */
    bool lossy;        /* live capture: never wait for fd; drop what it cannot take */
    uint64_t written;  /* bytes written to fd so far */
    uint64_t dropped_bytes, dropped_lines; /* what lossy mode could not write */
    char data[OUTBUF_SIZE];
};

void outbuf_init(struct outbuf *b, int fd);
/* Write out what is buffered.  In lossy mode the descriptor is polled before each
 * write of at most PIPE_BUF bytes, so a slow reader never stalls the caller: what it
 * cannot take now is dropped and counted (dropped_bytes, dropped_lines). */
void outbuf_flush(struct outbuf *b);
/* Flush when less than OUTBUF_SLACK bytes are free (call once per record). */
void outbuf_maybe_flush(struct outbuf *b);

/* Append n bytes when they do not fit (flushes as needed). */
void outbuf_put_slow(struct outbuf *b, const void *s, size_t n);

/* The per-character path of every sink: inline, one bounds check, no call. */
static inline void outbuf_put(struct outbuf *b, const void *s, size_t n)
{
    if (n <= OUTBUF_SIZE - b->len) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    } else {
        outbuf_put_slow(b, s, n);
    }
}

static inline void outbuf_puts(struct outbuf *b, const char *s)
{
    outbuf_put(b, s, strlen(s)); /* strlen of a literal folds to a constant */
}

static inline void outbuf_putc(struct outbuf *b, char c)
{
    if (b->len == OUTBUF_SIZE)
        outbuf_flush(b);
    b->data[b->len++] = c;
}

void outbuf_u64(struct outbuf *b, uint64_t v);
void outbuf_i64(struct outbuf *b, int64_t v);
/* Zero-padded decimal of exactly width digits (v must fit). */
void outbuf_u64w(struct outbuf *b, uint64_t v, unsigned width);
void outbuf_hex(struct outbuf *b, uint64_t v, unsigned min_width);
void outbuf_printf(struct outbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define INET6_TEXT_MAX 48
/* Address as text into out (IPv4 dotted quad or IPv6 RFC 5952 form); returns its length. */
size_t addr_text(int family, const uint8_t *addr, char *out, size_t size);
/* Address as text: IPv4 dotted quad or IPv6 RFC 5952 form. */
void outbuf_addr(struct outbuf *b, int family, const uint8_t *addr);
/* JSON string with quotes, escaping what RFC 8259 requires (bytes >= 0x80 escaped as
 * \u00XX so any input gives valid UTF-8 JSON). */
void outbuf_json_str(struct outbuf *b, const char *s, size_t n);

#endif
