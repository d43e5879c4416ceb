/* stream.c - the bounded per-connection byte store and `--follow` (see stream.h).
 *
 * Pipeline place: tcp tracker -> [stream store] -> verify, and the follow sink.
 * Layout of the temporary file: a sequence of records, each a struct rec header and
 * len payload bytes.  The records of one connection form a chain backwards through
 * rec.prev, so memory holds one struct sconn per connection and nothing per segment;
 * reading a connection back walks its chain once.
 */
#include "synack/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbuf.h"
#include "synack/sink.h"

#define WBUF_SIZE (256u * 1024u)

/* ---------------------------------------------------------------- private types */

/* One segment's header in the temporary file. */
struct rec {
    uint64_t frame;
    int64_t off;   /* stream offset of the first payload byte */
    int64_t prev;  /* file offset of the connection's previous record, -1 none */
    uint32_t len;  /* payload bytes stored after this header */
    uint32_t wire; /* payload bytes on the wire (>= len: snaplen, or the kept limit) */
    uint8_t dir;
    uint8_t pad[7];
};

/* One direction of a connection. */
struct sdir {
    bool have; /* a packet went this way: ref_* are set */
    bool fin;
    bool acked_set;
    uint32_t ref_seq; /* unwrapping: this sequence number is at offset ref_off */
    int64_t ref_off;
    int64_t max_end; /* highest offset + length seen on the wire */
    int64_t fin_off;
    int64_t acked; /* highest offset the peer acknowledged */
    uint64_t not_kept;
};

struct sconn {
    uint64_t id;
    bool seen;
    uint8_t family;
    uint8_t addr[2][16];
    uint16_t port[2];
    struct sdir d[2];
    int64_t last_rec; /* file offset of the newest record, -1 none */
    uint64_t nrec;
};

struct stream_store {
    uint64_t max;
    uint64_t only;
    FILE *f;
    int fd;
    int64_t flushed; /* bytes on disk */
    uint8_t *wbuf;
    size_t wlen;
    struct sconn *conns; /* in id order (new ids come in increasing order) */
    size_t n, cap;
    char err[160];
};

/* One record read back: its header and where its payload is. */
struct rref {
    struct rec h;
    int64_t pos; /* file offset of the payload */
};

/* ---------------------------------------------------------------- file I/O */

static void set_err(struct stream_store *s, const char *what)
{
    if (!s->err[0])
        snprintf(s->err, sizeof s->err, "stream store: %s: %s", what, strerror(errno));
}

static int flush_wbuf(struct stream_store *s)
{
    size_t done = 0;
    while (done < s->wlen) {
        ssize_t n =
            pwrite(s->fd, s->wbuf + done, s->wlen - done, (off_t)(s->flushed + (int64_t)done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            set_err(s, "write to the temporary file");
            s->wlen = 0;
            return -1;
        }
        done += (size_t)n;
    }
    s->flushed += (int64_t)s->wlen;
    s->wlen = 0;
    return 0;
}

static void append(struct stream_store *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        if (s->wlen == WBUF_SIZE && flush_wbuf(s) < 0)
            return;
        size_t k = WBUF_SIZE - s->wlen < n ? WBUF_SIZE - s->wlen : n;
        memcpy(s->wbuf + s->wlen, b, k);
        s->wlen += k;
        b += k;
        n -= k;
    }
}

static int read_at(struct stream_store *s, int64_t pos, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(s->fd, (uint8_t *)buf + done, n - done, (off_t)(pos + (int64_t)done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            set_err(s, "read from the temporary file");
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

/* ---------------------------------------------------------------- connections */

/* Index of the first connection with an id >= id. */
static size_t lower_bound(const struct stream_store *s, uint64_t id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->conns[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct sconn *conn_get(const struct stream_store *s, uint64_t id)
{
    size_t i = lower_bound(s, id);
    return i < s->n && s->conns[i].id == id ? &s->conns[i] : NULL;
}

static struct sconn *conn_make(struct stream_store *s, uint64_t id)
{
    if (s->only && id != s->only)
        return NULL;
    size_t i = lower_bound(s, id);
    if (i < s->n && s->conns[i].id == id)
        return &s->conns[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct sconn *n = realloc(s->conns, cap * sizeof *n);
        if (!n)
            return NULL;
        s->conns = n;
        s->cap = cap;
    }
    memmove(&s->conns[i + 1], &s->conns[i], (s->n - i) * sizeof *s->conns);
    s->n++;
    memset(&s->conns[i], 0, sizeof s->conns[i]);
    s->conns[i].id = id;
    s->conns[i].last_rec = -1;
    return &s->conns[i];
}

/* Offset of sequence number seq in direction d (unwrapped against the reference). */
static int64_t rel(const struct sdir *d, uint32_t seq)
{
    return d->ref_off + (int32_t)(seq - d->ref_seq);
}

static void advance_ref(struct sdir *d, uint32_t seq, int64_t off)
{
    if (off > d->ref_off) {
        d->ref_off = off;
        d->ref_seq = seq;
    }
}

static void store_payload(struct stream_store *s, struct sconn *c, unsigned dir, uint64_t frame,
                          int64_t off, const uint8_t *data, uint32_t caplen, uint32_t wire)
{
    struct sdir *d = &c->d[dir];
    if (off < 0) { /* bytes before the first one seen: keep the rest */
        uint64_t skip = (uint64_t)-off;
        if (skip >= wire)
            return;
        off = 0;
        data = data ? data + (skip < caplen ? skip : caplen) : NULL;
        caplen = skip < caplen ? caplen - (uint32_t)skip : 0;
        wire -= (uint32_t)skip;
    }
    if ((uint64_t)off >= s->max) {
        d->not_kept += wire;
        return;
    }
    uint64_t room = s->max - (uint64_t)off;
    uint32_t keep = caplen < room ? caplen : (uint32_t)room;
    if (wire > room)
        d->not_kept += wire - room;
    struct rec h;
    memset(&h, 0, sizeof h);
    h.frame = frame;
    h.off = off;
    h.prev = c->last_rec;
    h.len = keep;
    h.wire = wire;
    h.dir = (uint8_t)dir;
    int64_t pos = s->flushed + (int64_t)s->wlen;
    append(s, &h, sizeof h);
    if (keep)
        append(s, data, keep);
    c->last_rec = pos;
    c->nrec++;
}

/* ---------------------------------------------------------------- API: writing */

struct stream_store *stream_store_new(uint64_t max_per_dir, uint64_t only_conn)
{
    struct stream_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max = max_per_dir ? max_per_dir : STREAM_DEFAULT_MAX;
    s->only = only_conn;
    s->wbuf = malloc(WBUF_SIZE);
    s->f = tmpfile();
    if (!s->wbuf || !s->f) {
        stream_store_free(s);
        return NULL;
    }
    s->fd = fileno(s->f);
    return s;
}

void stream_store_free(struct stream_store *s)
{
    if (!s)
        return;
    if (s->f)
        fclose(s->f);
    free(s->wbuf);
    free(s->conns);
    free(s);
}

const char *stream_store_error(const struct stream_store *s)
{
    return s->err;
}

void stream_store_packet(struct stream_store *s, const struct packet *p,
                         const struct track_info *ti)
{
    if (!ti || !ti->conn || !p->tcp_valid || p->l4 != L4_TCP)
        return;
    uint64_t id = ti->conn->id;
    if (s->only && id != s->only)
        return;
    struct sconn *c = conn_make(s, id);
    if (!c)
        return;
    const struct pkt_tcp *t = &p->u.tcp;
    if (!c->seen) {
        c->seen = true;
        c->family = p->ip.version;
        memcpy(c->addr[0], p->ip.src, 16);
        memcpy(c->addr[1], p->ip.dst, 16);
        c->port[0] = t->sport;
        c->port[1] = t->dport;
    }
    unsigned dir = (t->sport == c->port[0] && memcmp(p->ip.src, c->addr[0], 16) == 0) ? 0 : 1;
    struct sdir *d = &c->d[dir];
    uint32_t first = t->seq + ((t->flags & TCP_SYN) ? 1u : 0u); /* seq of the first data byte */
    if (!d->have) {
        d->have = true;
        d->ref_seq = first;
        d->ref_off = 0;
    }
    int64_t off = rel(d, first);
    if (t->payload_len > 0) {
        int64_t end = off + (int64_t)t->payload_len;
        if (end > d->max_end)
            d->max_end = end;
        store_payload(s, c, dir, p->n, off, t->payload, t->payload_caplen, t->payload_len);
        advance_ref(d, first + t->payload_len, end);
    } else {
        advance_ref(d, first, off);
    }
    if ((t->flags & TCP_FIN) && !d->fin) {
        d->fin = true;
        d->fin_off = off + (int64_t)t->payload_len;
    }
    struct sdir *o = &c->d[dir ^ 1];
    if ((t->flags & TCP_ACK) && o->have && !(t->flags & TCP_RST)) {
        int64_t a = rel(o, t->ack);
        if (!o->acked_set || a > o->acked) {
            o->acked = a;
            o->acked_set = true;
        }
    }
}

/* ---------------------------------------------------------------- API: reading */

bool stream_store_endpoints(const struct stream_store *s, uint64_t conn, uint8_t *family,
                            uint8_t addr0[16], uint16_t *port0, uint8_t addr1[16], uint16_t *port1)
{
    const struct sconn *c = conn_get(s, conn);
    if (!c || !c->seen)
        return false;
    if (family)
        *family = c->family;
    if (addr0)
        memcpy(addr0, c->addr[0], 16);
    if (addr1)
        memcpy(addr1, c->addr[1], 16);
    if (port0)
        *port0 = c->port[0];
    if (port1)
        *port1 = c->port[1];
    return true;
}

int stream_store_dir_of(const struct stream_store *s, uint64_t conn, const uint8_t addr[16],
                        uint16_t port)
{
    const struct sconn *c = conn_get(s, conn);
    if (!c || !c->seen)
        return -1;
    for (int i = 0; i < 2; i++)
        if (c->port[i] == port && memcmp(c->addr[i], addr, 16) == 0)
            return i;
    return -1;
}

/* The records of a connection in capture order (dir < 2: only that direction).
 * Returns the count (*out malloc'ed, caller frees) or -1. */
static long load_recs(struct stream_store *s, const struct sconn *c, unsigned dir,
                      struct rref **out)
{
    *out = NULL;
    if (s->wlen && flush_wbuf(s) < 0)
        return -1;
    if (c->nrec == 0)
        return 0;
    struct rref *r = malloc(c->nrec * sizeof *r);
    if (!r)
        return -1;
    size_t n = 0;
    for (int64_t pos = c->last_rec; pos >= 0 && n < c->nrec;) {
        struct rec h;
        if (read_at(s, pos, &h, sizeof h) < 0) {
            free(r);
            return -1;
        }
        if (dir > 1 || h.dir == dir)
            r[n++] = (struct rref){h, pos + (int64_t)sizeof h};
        pos = h.prev;
    }
    for (size_t i = 0; i < n / 2; i++) { /* newest first -> capture order */
        struct rref t = r[i];
        r[i] = r[n - 1 - i];
        r[n - 1 - i] = t;
    }
    *out = r;
    return (long)n;
}

static int rref_cmp_off(const void *a, const void *b)
{
    const struct rref *x = a, *y = b;
    if (x->h.off != y->h.off)
        return x->h.off < y->h.off ? -1 : 1;
    return x->h.frame < y->h.frame ? -1 : x->h.frame > y->h.frame;
}

/* Stream length known for a direction. */
static uint64_t known_end(const struct sdir *d)
{
    int64_t e = d->max_end;
    if (d->fin && d->fin_off > e)
        e = d->fin_off;
    if (d->acked_set) {
        int64_t a = d->acked;
        if (d->fin && a > d->fin_off)
            a = d->fin_off;
        if (a > e)
            e = a;
    }
    return e > 0 ? (uint64_t)e : 0;
}

size_t stream_store_assemble(struct stream_store *s, uint64_t conn, unsigned dir, uint8_t *buf,
                             size_t cap, struct stream_info *info)
{
    memset(info, 0, sizeof *info);
    info->limit = s->max;
    const struct sconn *c = conn_get(s, conn);
    if (!c || !c->seen || dir > 1)
        return 0;
    const struct sdir *d = &c->d[dir];
    info->seen = d->have;
    info->fin = d->fin;
    info->end = known_end(d);
    info->not_kept = d->not_kept;
    struct rref *r;
    long n = load_recs(s, c, dir, &r);
    if (n < 0)
        return 0;
    uint64_t lim = info->end < s->max ? info->end : s->max;
    size_t out = (size_t)(lim < cap ? lim : cap);
    if (buf && out)
        memset(buf, 0, out);
    /* bytes first captured win: fill in capture order, skipping what is filled */
    uint8_t *filled = out ? calloc((out + 7) / 8, 1) : NULL;
    uint8_t tmp[4096];
    for (long i = 0; i < n && buf && filled; i++) {
        uint64_t off = (uint64_t)r[i].h.off, len = r[i].h.len;
        for (uint64_t k = 0; k < len && off + k < out;) {
            size_t chunk = (size_t)(len - k < sizeof tmp ? len - k : sizeof tmp);
            if (read_at(s, r[i].pos + (int64_t)k, tmp, chunk) < 0)
                break;
            for (size_t j = 0; j < chunk && off + k + j < out; j++) {
                uint64_t at = off + k + j;
                if (!(filled[at / 8] & (1u << (at % 8)))) {
                    filled[at / 8] = (uint8_t)(filled[at / 8] | (1u << (at % 8)));
                    buf[at] = tmp[j];
                }
            }
            k += chunk;
        }
    }
    free(filled);
    /* coverage: sweep the captured intervals in offset order */
    qsort(r, (size_t)n, sizeof *r, rref_cmp_off);
    uint64_t cont = 0, covered_to = 0, covered = 0;
    bool hole = false;
    for (long i = 0; i < n; i++) {
        uint64_t a = (uint64_t)r[i].h.off, b = a + r[i].h.len;
        if (b > lim)
            b = lim;
        if (a > cont && !hole) {
            hole = true;
            info->first_missing_frame = r[i].h.frame;
        }
        if (!hole && b > cont)
            cont = b;
        if (a < covered_to)
            a = covered_to;
        if (b > a) {
            covered += b - a;
            covered_to = b;
        }
    }
    info->contiguous = cont;
    info->missing = lim > covered ? lim - covered : 0;
    if (info->missing && !info->first_missing_frame) { /* hole at the end, or a cut segment */
        for (long i = 0; i < n; i++)
            if (r[i].h.len < r[i].h.wire && (uint64_t)r[i].h.off + r[i].h.len < lim) {
                info->first_missing_frame = r[i].h.frame;
                break;
            }
    }
    free(r);
    return out;
}

uint64_t stream_store_frame_at(struct stream_store *s, uint64_t conn, unsigned dir, uint64_t off)
{
    const struct sconn *c = conn_get(s, conn);
    if (!c || !c->seen)
        return 0;
    struct rref *r;
    long n = load_recs(s, c, dir, &r);
    uint64_t f = 0;
    for (long i = 0; i < n && !f; i++)
        if ((uint64_t)r[i].h.off <= off && off < (uint64_t)r[i].h.off + r[i].h.wire)
            f = r[i].h.frame;
    free(r);
    return f;
}

uint64_t stream_store_last_frame(struct stream_store *s, uint64_t conn, unsigned dir)
{
    const struct sconn *c = conn_get(s, conn);
    if (!c || !c->seen)
        return 0;
    struct rref *r;
    long n = load_recs(s, c, dir, &r);
    uint64_t f = n > 0 ? r[n - 1].h.frame : 0;
    free(r);
    return f;
}

/* ---------------------------------------------------------------- follow */

struct follow {
    struct stream_store *s;
    struct outbuf *ob;
    uint64_t nxt[2];
    uint64_t lim;
    int io_err;
};

static void follow_marker(struct follow *f, unsigned dir, uint64_t n, const char *what)
{
    if (dir)
        outbuf_putc(f->ob, '\t');
    outbuf_printf(f->ob, "[%llu bytes %s]\n", (unsigned long long)n, what);
    outbuf_maybe_flush(f->ob);
}

/* Print the bytes of r not yet printed for its direction, then mark what r carried on
 * the wire but the capture did not keep (snaplen). */
static void follow_emit(struct follow *f, const struct rref *r)
{
    unsigned d = r->h.dir;
    uint64_t off = (uint64_t)r->h.off, endc = off + r->h.len, endw = off + r->h.wire;
    if (endw > f->lim)
        endw = f->lim;
    uint64_t start = f->nxt[d] > off ? f->nxt[d] : off;
    if (start < endc) {
        uint64_t len = endc - start;
        if (d)
            outbuf_putc(f->ob, '\t');
        outbuf_printf(f->ob, "%llu\n", (unsigned long long)len);
        uint8_t tmp[4096];
        for (uint64_t k = 0; k < len;) {
            size_t chunk = (size_t)(len - k < sizeof tmp ? len - k : sizeof tmp);
            if (read_at(f->s, r->pos + (int64_t)(start - off + k), tmp, chunk) < 0) {
                f->io_err = 1;
                return;
            }
            for (size_t j = 0; j < chunk; j++) {
                uint8_t ch = tmp[j];
                outbuf_putc(f->ob,
                            (ch >= 0x20 && ch < 0x7f) || ch == '\n' || ch == '\r' ? (char)ch : '.');
                if ((j & 1023) == 1023)
                    outbuf_maybe_flush(f->ob);
            }
            outbuf_maybe_flush(f->ob);
            k += chunk;
        }
        outbuf_putc(f->ob, '\n');
        f->nxt[d] = endc;
    }
    if (endw > f->nxt[d] && endc < endw && f->nxt[d] >= off) {
        follow_marker(f, d, endw - f->nxt[d], "missing in capture");
        f->nxt[d] = endw;
    }
}

int stream_store_follow(struct stream_store *s, uint64_t conn, int fd)
{
    const struct sconn *c = conn_get(s, conn);
    if (!c || !c->seen)
        return -1;
    struct rref *r;
    long n = load_recs(s, c, 2, &r);
    if (n < 0)
        return -2;
    struct outbuf *ob = malloc(sizeof *ob);
    bool *pend = n ? calloc((size_t)n, sizeof *pend) : NULL;
    if (!ob || (n && !pend)) {
        free(ob);
        free(pend);
        free(r);
        return -2;
    }
    outbuf_init(ob, fd);
    struct follow f = {.s = s, .ob = ob, .lim = s->max};
    outbuf_puts(ob, "\n===================================================================\n"
                    "Follow: tcp,ascii\n");
    outbuf_printf(ob, "Filter: synack conn %llu\n", (unsigned long long)conn);
    for (int i = 0; i < 2; i++) {
        char a[INET6_TEXT_MAX];
        addr_text(c->family == 6 ? 6 : 4, c->addr[i], a, sizeof a);
        outbuf_printf(ob, c->family == 6 ? "Node %d: [%s]:%u\n" : "Node %d: %s:%u\n", i, a,
                      c->port[i]);
    }
    for (long i = 0; i < n && !f.io_err; i++) {
        unsigned d = r[i].h.dir;
        if ((uint64_t)r[i].h.off > f.nxt[d]) { /* a hole before it: hold it back */
            pend[i] = true;
            continue;
        }
        follow_emit(&f, &r[i]);
        for (bool more = true; more && !f.io_err;) { /* the hole may be filled now */
            more = false;
            for (long j = 0; j < i; j++)
                if (pend[j] && r[j].h.dir == d && (uint64_t)r[j].h.off <= f.nxt[d]) {
                    pend[j] = false;
                    follow_emit(&f, &r[j]);
                    more = true;
                }
        }
    }
    /* what is still held back follows its hole, direction by direction */
    for (unsigned d = 0; d < 2 && !f.io_err; d++) {
        for (;;) {
            long best = -1;
            for (long j = 0; j < n; j++)
                if (pend[j] && r[j].h.dir == d && (best < 0 || rref_cmp_off(&r[j], &r[best]) < 0))
                    best = j;
            if (best < 0)
                break;
            pend[best] = false;
            uint64_t off = (uint64_t)r[best].h.off;
            if (off > f.nxt[d]) {
                follow_marker(&f, d, off - f.nxt[d], "missing in capture");
                f.nxt[d] = off;
            }
            follow_emit(&f, &r[best]);
        }
        uint64_t end = known_end(&c->d[d]);
        if (end > f.lim)
            end = f.lim;
        if (end > f.nxt[d])
            follow_marker(&f, d, end - f.nxt[d], "missing in capture");
        if (c->d[d].not_kept) {
            char what[96];
            snprintf(what, sizeof what,
                     "not kept (only the first %llu bytes of each direction are)",
                     (unsigned long long)s->max);
            follow_marker(&f, d, c->d[d].not_kept, what);
        }
    }
    outbuf_puts(ob, "===================================================================\n");
    outbuf_flush(ob);
    int rc = f.io_err || ob->failed ? -2 : 0;
    free(ob);
    free(pend);
    free(r);
    return rc;
}

/* ---------------------------------------------------------------- follow sink */

struct follow_sink {
    struct sink base;
    struct sink_opts o;
    struct stream_store *st;
};

static void fs_packet(struct sink *s, const struct packet *p, const struct track_info *ti)
{
    struct follow_sink *f = (struct follow_sink *)s;
    if (f->st)
        stream_store_packet(f->st, p, ti);
}

static void fs_event(struct sink *s, const struct tcp_event *e)
{
    (void)s;
    (void)e;
}

static void fs_conn_end(struct sink *s, const struct conn *c, enum conn_end_reason why)
{
    (void)s;
    (void)c;
    (void)why;
}

static void fs_finish(struct sink *s, const struct run_totals *t)
{
    (void)t;
    struct follow_sink *f = (struct follow_sink *)s;
    const char *why = NULL;
    char msg[256];
    if (!f->st) {
        why = "out of memory or no temporary file for the stream store";
    } else {
        int rc = stream_store_follow(f->st, f->o.conn, f->o.fd);
        if (rc == -1) {
            snprintf(msg, sizeof msg, "--follow %llu: no such connection in the capture",
                     (unsigned long long)f->o.conn);
            why = msg;
        } else if (rc == -2) {
            snprintf(msg, sizeof msg, "--follow: %s",
                     stream_store_error(f->st)[0] ? stream_store_error(f->st) : "write error");
            why = msg;
        }
    }
    if (why && f->o.errbuf && f->o.errlen && !f->o.errbuf[0])
        snprintf(f->o.errbuf, f->o.errlen, "%s", why);
}

static void fs_destroy(struct sink *s)
{
    struct follow_sink *f = (struct follow_sink *)s;
    stream_store_free(f->st);
    free(f);
}

static const struct sink_ops follow_ops = {
    .packet = fs_packet,
    .event = fs_event,
    .conn_end = fs_conn_end,
    .finish = fs_finish,
    .destroy = fs_destroy,
};

struct sink *sink_follow_new(const struct sink_opts *o)
{
    struct follow_sink *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->base.ops = &follow_ops;
    f->o = *o;
    f->st = stream_store_new(STREAM_FOLLOW_MAX, o->conn);
    return &f->base;
}
