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

/* "00" "01" ... "99": decimal conversion two digits at a time. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* Decimal digits of v: a comparison tree for 32-bit values (most of what is printed:
 * ports, sequence numbers, windows), a loop beyond. */
static inline unsigned digits10(uint64_t v)
{
    if (v <= UINT32_MAX) {
        uint32_t w = (uint32_t)v;
        if (w < 100000)
            return w < 100 ? (w < 10 ? 1 : 2) : w < 1000 ? 3 : w < 10000 ? 4 : 5;
        return w < 10000000 ? (w < 1000000 ? 6 : 7)
                            : w < 100000000 ? 8 : w < 1000000000 ? 9 : 10;
    }
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
            memcpy(p, digit_pairs + (w % 100) * 2, 2);
            w /= 100;
            n -= 2;
        }
        if (n)
            *--p = (char)('0' + w % 10);
        return;
    }
    while (n >= 2) {
        p -= 2;
        memcpy(p, digit_pairs + (v % 100) * 2, 2);
        v /= 100;
        n -= 2;
    }
    if (n)
        *--p = (char)('0' + v % 10);
}

void outbuf_u64(struct outbuf *b, uint64_t v)
{
    if (OUTBUF_SIZE - b->len < 20)
        outbuf_flush(b);
    unsigned n = digits10(v);
    put_digits(b->data + b->len + n, v, n);
    b->len += n;
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

size_t addr_text(int family, const uint8_t *a, char *out, size_t size)
{
    if (size == 0)
        return 0;
    if (family == 4) {
        int n = snprintf(out, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        return n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
    }
    if (!inet_ntop(AF_INET6, a, out, (socklen_t)size))
        snprintf(out, size, "?");
    return strlen(out);
}

void outbuf_addr(struct outbuf *b, int family, const uint8_t *a)
{
    if (family == 4) { /* dotted quad straight into the buffer */
        if (OUTBUF_SIZE - b->len < 16)
            outbuf_flush(b);
        char *p = b->data + b->len;
        for (int i = 0; i < 4; i++) {
            unsigned o = a[i];
            if (o >= 100) {
                *p++ = (char)('0' + o / 100);
                memcpy(p, digit_pairs + (o % 100) * 2, 2);
                p += 2;
            } else if (o >= 10) {
                memcpy(p, digit_pairs + o * 2, 2);
                p += 2;
            } else {
                *p++ = (char)('0' + o);
            }
            *p++ = '.';
        }
        b->len = (size_t)(p - 1 - b->data); /* no dot after the last octet */
        return;
    }
    char tmp[INET6_TEXT_MAX];
    outbuf_put(b, tmp, addr_text(family, a, tmp, sizeof tmp));
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
