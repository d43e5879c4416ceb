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
/* The appends below are a few instructions each: inlined even into large printers,
 * where the compiler's size limits would otherwise make them calls. */
#define OUTBUF_INLINE static inline __attribute__((always_inline))

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
OUTBUF_INLINE void outbuf_put(struct outbuf *b, const void *s, size_t n)
{
    if (n <= OUTBUF_SIZE - b->len) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    } else {
        outbuf_put_slow(b, s, n);
    }
}

OUTBUF_INLINE void outbuf_puts(struct outbuf *b, const char *s)
{
    outbuf_put(b, s, strlen(s)); /* strlen of a literal folds to a constant */
}

OUTBUF_INLINE void outbuf_putc(struct outbuf *b, char c)
{
    if (b->len == OUTBUF_SIZE)
        outbuf_flush(b);
    b->data[b->len++] = c;
}

/* Direct writes, for a run of appends whose total length has a known bound: one room
 * check instead of one per append.  outbuf_reserve makes room for n bytes (n <=
 * OUTBUF_SLACK; flushing first if needed) and returns where to write; the *_text
 * functions write at a pointer and return the end; outbuf_commit(b, end) keeps what was
 * written up to end. */
OUTBUF_INLINE char *outbuf_reserve(struct outbuf *b, size_t n)
{
    if (OUTBUF_SIZE - b->len < n)
        outbuf_flush(b);
    return b->data + b->len;
}

OUTBUF_INLINE void outbuf_commit(struct outbuf *b, char *end)
{
    b->len = (size_t)(end - b->data);
}

/* s without its terminator at p; returns the end (strlen of a literal folds). */
OUTBUF_INLINE char *outbuf_str_text(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* "00" "01" ... "99": decimal conversion two digits at a time. */
extern const char outbuf_digit_pairs[201];

/* Write v (below 100^n) as exactly 2n decimal digits ending at end, zero-padded;
 * n <= 4.  One division by 100 per pair but the last. */
OUTBUF_INLINE void outbuf_pairs_at(char *end, uint32_t v, unsigned n)
{
    switch (n) {
    case 4:
        end -= 2;
        memcpy(end, outbuf_digit_pairs + 2 * (v % 100), 2);
        v /= 100;
        /* fall through */
    case 3:
        end -= 2;
        memcpy(end, outbuf_digit_pairs + 2 * (v % 100), 2);
        v /= 100;
        /* fall through */
    case 2:
        end -= 2;
        memcpy(end, outbuf_digit_pairs + 2 * (v % 100), 2);
        v /= 100;
        /* fall through */
    case 1:
        memcpy(end - 2, outbuf_digit_pairs + 2 * v, 2);
        break;
    default:
        break;
    }
}

/* The leading one or two digits of a number (v < 100) at p; returns the end.  Two bytes
 * are always written: with one digit, the second is scratch for what follows. */
OUTBUF_INLINE char *outbuf_head_text(char *p, uint32_t v)
{
    unsigned one = v < 10;
    memcpy(p, outbuf_digit_pairs + 2 * v + one, 2);
    return p + 2 - one;
}

/* v in decimal at p (1 to 10 bytes, no terminator; up to 10 bytes may be written);
 * returns the end.  Straight-line code per length class: one division by a constant
 * for the head, then digit pairs. */
OUTBUF_INLINE char *outbuf_u32_text(char *p, uint32_t v)
{
    if (v < 100)
        return outbuf_head_text(p, v);
    if (v < 10000) {
        p = outbuf_head_text(p, v / 100);
        outbuf_pairs_at(p + 2, v % 100, 1);
        return p + 2;
    }
    if (v < 1000000) {
        p = outbuf_head_text(p, v / 10000);
        outbuf_pairs_at(p + 4, v % 10000, 2);
        return p + 4;
    }
    if (v < 100000000) {
        p = outbuf_head_text(p, v / 1000000);
        outbuf_pairs_at(p + 6, v % 1000000, 3);
        return p + 6;
    }
    p = outbuf_head_text(p, v / 100000000);
    outbuf_pairs_at(p + 8, v % 100000000, 4);
    return p + 8;
}

/* v in decimal: outbuf_u64 for 32-bit values, inline for the per-packet fields. */
OUTBUF_INLINE void outbuf_u32(struct outbuf *b, uint32_t v)
{
    if (OUTBUF_SIZE - b->len < 10)
        outbuf_flush(b);
    b->len = (size_t)(outbuf_u32_text(b->data + b->len, v) - b->data);
}

/* v in decimal at p (1 to 20 bytes, no terminator); returns the end. */
char *outbuf_u64_text(char *p, uint64_t v);
void outbuf_u64(struct outbuf *b, uint64_t v);
void outbuf_i64(struct outbuf *b, int64_t v);
/* Zero-padded decimal of exactly width digits (v must fit). */
void outbuf_u64w(struct outbuf *b, uint64_t v, unsigned width);
void outbuf_hex(struct outbuf *b, uint64_t v, unsigned min_width);
void outbuf_printf(struct outbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define INET6_TEXT_MAX 48
/* Address as text at p (IPv4 dotted quad or IPv6 RFC 5952 form; up to INET6_TEXT_MAX
 * bytes may be written); returns the end. */
char *outbuf_addr_text(char *p, int family, const uint8_t *addr);
/* Address as text into out (IPv4 dotted quad or IPv6 RFC 5952 form); returns its length. */
size_t addr_text(int family, const uint8_t *addr, char *out, size_t size);
/* Address as text: IPv4 dotted quad or IPv6 RFC 5952 form. */
void outbuf_addr(struct outbuf *b, int family, const uint8_t *addr);
/* JSON string with quotes, escaping what RFC 8259 requires (bytes >= 0x80 escaped as
 * \u00XX so any input gives valid UTF-8 JSON). */
void outbuf_json_str(struct outbuf *b, const char *s, size_t n);

#endif
