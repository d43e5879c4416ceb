/* reader.h - bounds-checked cursor over captured packet bytes.
 *
 * Pipeline place: private to decode (link/ip/tcp). Every read of packet bytes goes
 * through a struct reader: a read that would pass the window's end returns 0 and sets
 * a sticky error, and every later read on that reader fails too. So a decoder reads a
 * whole header field by field and checks r.err once at the end. Packet bytes are never
 * cast to structs; multi-byte values are assembled byte by byte in the order the wire
 * format says (be = network order, le = little-endian).
 *
 * The window is [base, base + len); off is the cursor. A layer hands the next one a
 * sub-reader narrowed to what its header declares (rd_sub), so bytes that do not
 * belong to the inner layer (Ethernet padding) can never be read as its.
 */
#ifndef SYNACK_READER_H
#define SYNACK_READER_H

#include <stddef.h>
#include <stdint.h>

/* Sticky error codes of a reader. The reader knows only the captured bytes, so its one
 * error is truncation; a header that contradicts itself or a declared length
 * (malformed) is judged by the layer, which knows the lengths on the wire. */
enum {
    RD_OK = 0,
    RD_TRUNCATED = 1, /* a read ran past the window (the captured bytes) */
};

struct reader {
    const uint8_t *base; /* first byte of the window */
    uint32_t len;        /* bytes in the window */
    uint32_t off;        /* cursor, 0..len */
    int err;             /* RD_OK until the first failure, then sticky */
};

/* Loads from a span that rd_bytes has already checked: read a whole fixed header with
 * one check, then pick its fields at their offsets. Never use them on bytes the reader
 * has not vouched for. */
static inline uint16_t ld_be16(const uint8_t *b)
{
    return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static inline uint32_t ld_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A reader over len bytes at base, cursor at 0. */
static inline struct reader rd_make(const uint8_t *base, uint32_t len)
{
    struct reader r = {base, len, 0, RD_OK};
    return r;
}

/* Bytes left between the cursor and the end of the window (0 after an error). */
static inline uint32_t rd_left(const struct reader *r)
{
    return r->err ? 0 : r->len - r->off;
}

/* Pointer to the cursor position (valid for rd_left bytes). */
static inline const uint8_t *rd_cur(const struct reader *r)
{
    return r->base + r->off;
}

/* Are n more bytes available?  On no, sets RD_TRUNCATED and returns 0. */
static inline int rd_need(struct reader *r, uint32_t n)
{
    if (r->err)
        return 0;
    if (n > r->len - r->off) {
        r->err = RD_TRUNCATED;
        return 0;
    }
    return 1;
}

static inline uint8_t rd_u8(struct reader *r)
{
    if (!rd_need(r, 1))
        return 0;
    return r->base[r->off++];
}

static inline uint16_t rd_be16(struct reader *r)
{
    if (!rd_need(r, 2))
        return 0;
    const uint8_t *b = r->base + r->off;
    r->off += 2;
    return ld_be16(b);
}

static inline uint32_t rd_be32(struct reader *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *b = r->base + r->off;
    r->off += 4;
    return ld_be32(b);
}

static inline uint32_t rd_le32(struct reader *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *b = r->base + r->off;
    r->off += 4;
    return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

/* Skip n bytes.  Returns 1, or 0 (and RD_TRUNCATED) if fewer are left. */
static inline int rd_skip(struct reader *r, uint32_t n)
{
    if (!rd_need(r, n))
        return 0;
    r->off += n;
    return 1;
}

/* Take n bytes: returns a pointer to them and moves past, or NULL (RD_TRUNCATED). */
static inline const uint8_t *rd_bytes(struct reader *r, uint32_t n)
{
    if (!rd_need(r, n))
        return NULL;
    const uint8_t *b = r->base + r->off;
    r->off += n;
    return b;
}

/* Peek at the byte n positions past the cursor without moving; 0 and RD_TRUNCATED if absent. */
static inline uint8_t rd_peek(struct reader *r, uint32_t n)
{
    if (!rd_need(r, n + 1))
        return 0;
    return r->base[r->off + n];
}

/* A new reader over the rest of r's window (from the cursor), narrowed to at most n
 * bytes: what a header declares as its content, so bytes past it (Ethernet padding)
 * can never be read as the inner layer's. The sub-reader inherits r's error; r is not
 * moved. */
static inline struct reader rd_sub(const struct reader *r, uint32_t n)
{
    uint32_t left = rd_left(r);
    struct reader s = rd_make(r->base + r->off, n < left ? n : left);
    s.err = r->err;
    return s;
}

#endif
