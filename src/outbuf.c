/* outbuf.c - buffered output for the sinks (see outbuf.h). */
#include "outbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void outbuf_init(struct outbuf *b, int fd)
{
    b->fd = fd;
    b->len = 0;
    b->failed = false;
    b->lossy = false;
    b->written = 0;
    b->dropped_bytes = b->dropped_lines = 0;
}

/* Lossy mode: is there room for a PIPE_BUF-sized write right now? */
static bool writable_now(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

void outbuf_flush(struct outbuf *b)
{
    size_t off = 0;
    while (off < b->len && !b->failed) {
        size_t n = b->len - off;
        if (b->lossy) {
            if (!writable_now(b->fd)) {
                b->dropped_bytes += n;
                for (size_t i = off; i < b->len; i++)
                    b->dropped_lines += b->data[i] == '\n';
                break;
            }
            if (n > PIPE_BUF) { /* a pipe with POLLOUT takes PIPE_BUF bytes at once */
                n = PIPE_BUF;
                size_t k = n;
                while (k > 0 && b->data[off + k - 1] != '\n')
                    k--;
                if (k > 0) /* whole lines only, so a drop never cuts one */
                    n = k;
            }
        }
        ssize_t w = write(b->fd, b->data + off, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            b->failed = true;
            break;
        }
        off += (size_t)w;
        b->written += (uint64_t)w;
    }
    b->len = 0;
}

void outbuf_maybe_flush(struct outbuf *b)
{
    if (OUTBUF_SIZE - b->len < OUTBUF_SLACK)
        outbuf_flush(b);
}

void outbuf_put_slow(struct outbuf *b, const void *s, size_t n)
{
    const char *p = s;
    while (n > 0) {
        size_t room = OUTBUF_SIZE - b->len;
        if (room == 0) {
            outbuf_flush(b);
            room = OUTBUF_SIZE;
        }
        size_t k = n < room ? n : room;
        memcpy(b->data + b->len, p, k);
        b->len += k;
        p += k;
        n -= k;
    }
}

/* outbuf_digit_pairs: see outbuf.h. */
const char outbuf_digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* Decimal digits of v, for values above 32 bits (outbuf_u32_text does the rest). */
static unsigned digits10_wide(uint64_t v)
{
    unsigned n = 10;
    for (v /= 10000000000ULL; v; v /= 10)
        n++;
    return n;
}

/* Write v as exactly n decimal digits ending at end (end - n .. end - 1). */
static inline __attribute__((always_inline)) void put_digits(char *end, uint64_t v, unsigned n)
{
    char *p = end;
    if (v <= UINT32_MAX) { /* 32-bit division is the cheaper one */
        uint32_t w = (uint32_t)v;
        while (n >= 2) {
            p -= 2;
            memcpy(p, outbuf_digit_pairs + (w % 100) * 2, 2);
            w /= 100;
            n -= 2;
        }
        if (n)
            *--p = (char)('0' + w % 10);
        return;
    }
    while (n >= 2) {
        p -= 2;
        memcpy(p, outbuf_digit_pairs + (v % 100) * 2, 2);
        v /= 100;
        n -= 2;
    }
    if (n)
        *--p = (char)('0' + v % 10);
}

char *outbuf_u64_text(char *p, uint64_t v)
{
    if (v <= UINT32_MAX)
        return outbuf_u32_text(p, (uint32_t)v);
    unsigned n = digits10_wide(v);
    put_digits(p + n, v, n);
    return p + n;
}

void outbuf_u64(struct outbuf *b, uint64_t v)
{
    if (OUTBUF_SIZE - b->len < 20)
        outbuf_flush(b);
    b->len = (size_t)(outbuf_u64_text(b->data + b->len, v) - b->data);
}

void outbuf_i64(struct outbuf *b, int64_t v)
{
    if (v < 0) {
        outbuf_putc(b, '-');
        outbuf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        outbuf_u64(b, (uint64_t)v);
    }
}

void outbuf_u64w(struct outbuf *b, uint64_t v, unsigned width)
{
    if (width > 20)
        width = 20;
    if (OUTBUF_SIZE - b->len < 20)
        outbuf_flush(b);
    put_digits(b->data + b->len + width, v, width);
    b->len += width;
}

void outbuf_hex(struct outbuf *b, uint64_t v, unsigned min_width)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = digits[v & 15];
        v >>= 4;
    } while (v || (int)sizeof tmp - i < (int)min_width);
    outbuf_put(b, tmp + i, sizeof tmp - (size_t)i);
}

void outbuf_printf(struct outbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        outbuf_put(b, tmp, (size_t)n);
        return;
    }
    /* longer than the scratch buffer: format again straight into the output */
    if ((size_t)n + 1 > OUTBUF_SIZE - b->len)
        outbuf_flush(b);
    if ((size_t)n + 1 > OUTBUF_SIZE - b->len)
        return; /* over 256 KiB from one call: never asked of it */
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Each octet's text with its dot ("7.", "42.", "255."), four bytes, and its length:
 * a dotted quad is four 4-byte copies.  Built by the compiler from constant
 * expressions. */
#define OCT_D(n, k) ((char)('0' + (n) / (k) % 10))
#define OCT(n)                                                                           \
    {(n) >= 100 ? OCT_D(n, 100) : (n) >= 10 ? OCT_D(n, 10) : OCT_D(n, 1),                \
     (n) >= 100 ? OCT_D(n, 10) : (n) >= 10 ? OCT_D(n, 1) : '.',                          \
     (n) >= 100 ? OCT_D(n, 1) : (n) >= 10 ? '.' : '\0', (n) >= 100 ? '.' : '\0'}
#define OCT4(n) OCT(n), OCT((n) + 1), OCT((n) + 2), OCT((n) + 3)
#define OCT16(n) OCT4(n), OCT4((n) + 4), OCT4((n) + 8), OCT4((n) + 12)
#define OCT64(n) OCT16(n), OCT16((n) + 16), OCT16((n) + 32), OCT16((n) + 48)
static const char octet_text[256][4] = {OCT64(0), OCT64(64), OCT64(128), OCT64(192)};
#define LEN(n) (uint8_t)((n) >= 100 ? 4 : (n) >= 10 ? 3 : 2)
#define LEN4(n) LEN(n), LEN((n) + 1), LEN((n) + 2), LEN((n) + 3)
#define LEN16(n) LEN4(n), LEN4((n) + 4), LEN4((n) + 8), LEN4((n) + 12)
#define LEN64(n) LEN16(n), LEN16((n) + 16), LEN16((n) + 32), LEN16((n) + 48)
static const uint8_t octet_len[256] = {LEN64(0), LEN64(64), LEN64(128), LEN64(192)};
#undef OCT_D
#undef OCT
#undef OCT4
#undef OCT16
#undef OCT64
#undef LEN
#undef LEN4
#undef LEN16
#undef LEN64

/* Dotted quad at p (7 to 15 bytes; up to 16 may be written); returns the end. */
static char *ipv4_text(char *p, const uint8_t *a)
{
    for (int i = 0; i < 4; i++) {
        unsigned o = a[i];
        memcpy(p, octet_text[o], 4);
        p += octet_len[o];
    }
    return p - 1; /* no dot after the last octet */
}

size_t addr_text(int family, const uint8_t *a, char *out, size_t size)
{
    if (size == 0)
        return 0;
    if (family == 4) {
        char tmp[16];
        size_t n = (size_t)(ipv4_text(tmp, a) - tmp);
        if (n >= size)
            n = size - 1;
        memcpy(out, tmp, n);
        out[n] = '\0';
        return n;
    }
    if (!inet_ntop(AF_INET6, a, out, (socklen_t)size))
        snprintf(out, size, "?");
    return strlen(out);
}

char *outbuf_addr_text(char *p, int family, const uint8_t *a)
{
    if (family == 4)
        return ipv4_text(p, a);
    return p + addr_text(family, a, p, INET6_TEXT_MAX);
}

static __attribute__((noinline)) void put_addr6(struct outbuf *b, int family, const uint8_t *a)
{
    char tmp[INET6_TEXT_MAX];
    outbuf_put(b, tmp, addr_text(family, a, tmp, sizeof tmp));
}

void outbuf_addr(struct outbuf *b, int family, const uint8_t *a)
{
    if (family != 4) {
        put_addr6(b, family, a);
        return;
    }
    if (OUTBUF_SIZE - b->len < 16) /* dotted quad straight into the buffer */
        outbuf_flush(b);
    b->len = (size_t)(ipv4_text(b->data + b->len, a) - b->data);
}

void outbuf_json_str(struct outbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    outbuf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            outbuf_putc(b, '\\');
            outbuf_putc(b, (char)c);
        } else if (c < 0x20 || c >= 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            outbuf_put(b, e, sizeof e);
        } else {
            outbuf_putc(b, (char)c);
        }
    }
    outbuf_putc(b, '"');
}
