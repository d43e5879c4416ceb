/* flow_table.c - bounded connection table: keyed hash, slot pool, LRU per timeout class.
 *
 * Pipeline place: decode -> [flow table] -> tcp tracker (see flow_table.h).
 *
 * Layout: an open-addressing index (linear probing, power-of-two size, at most half
 * full) maps a hash to a slot number; slots hold the key, its hash and the LRU links.
 * Deletion shifts later probe-chain members back (no tombstones), so lookups stay
 * short however many connections come and go.  All memory is reserved at creation
 * with calloc; untouched pages cost no resident memory.
 */
#include "synack/flow_table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
/* libxxhash's header carries the implementation: inlined, a 16-byte IPv4 key hashes in
 * a few dozen instructions with no call (the library call cost twice that) */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define SLOT_FREE 0u /* index cells hold slot + 1 */

struct flow_entry {
    struct flow_key key;
    uint64_t hash;
    int64_t last_ns;
    uint32_t prev, next; /* LRU list of its class (FLOW_NONE ends) */
    uint8_t cls;
    uint8_t used;
};

struct lru {
    uint32_t head, tail; /* head: least recently active */
};

struct flow_table {
    struct flow_table_opts o;
    flow_end_fn on_end;
    void *ctx;
    struct flow_entry *e;   /* max_conns slots */
    uint32_t *index;        /* index_mask + 1 cells */
    uint32_t index_mask;
    uint32_t free_head;     /* free slot list through .next */
    uint32_t n_used;
    uint32_t n_fresh;       /* slots handed out at least once: 0..n_fresh-1 */
    struct lru lru[FLOW_CLASS_COUNT];
    int64_t next_deadline; /* no entry expires before this time (a lower bound) */
    struct flow_table_stats st;
    uint8_t secret[XXH3_SECRET_SIZE_MIN];
};

/* ---------------------------------------------------------------- keys and hashing */

void flow_key_from_packet(struct flow_key *k, bool *reversed, const struct packet *p)
{
    uint16_t sport = p->u.tcp.sport, dport = p->u.tcp.dport;
    bool rev;
    if (p->ip.version == 6) {
        int c = memcmp(p->ip.src, p->ip.dst, 16);
        rev = c > 0 || (c == 0 && sport > dport);
        memcpy(k->addr, rev ? p->ip.dst : p->ip.src, 16);
        memcpy(k->addr + 16, rev ? p->ip.src : p->ip.dst, 16);
    } else {
        /* big-endian compare of the two IPv4 addresses as integers */
        uint32_t sa, da;
        memcpy(&sa, p->ip.src, 4);
        memcpy(&da, p->ip.dst, 4);
        uint32_t s = __builtin_bswap32(sa), d = __builtin_bswap32(da);
        rev = s > d || (s == d && sport > dport);
        uint32_t lo = rev ? da : sa, hi = rev ? sa : da;
        memcpy(k->addr, &lo, 4);
        memcpy(k->addr + 4, &hi, 4);
        memset(k->addr + 8, 0, sizeof k->addr - 8);
    }
    k->port[0] = rev ? dport : sport;
    k->port[1] = rev ? sport : dport;
    k->family = (uint8_t)p->ip.version;
    k->pad[0] = k->pad[1] = k->pad[2] = 0;
    *reversed = rev;
}

/* Bytes of a key that carry information (the rest is zero). */
static size_t key_len(const struct flow_key *k)
{
    return offsetof(struct flow_key, addr) + (k->family == 6 ? 32u : 8u);
}

static uint64_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
    if (k->family != 6) /* a constant length lets the compiler keep only the 9-16 case */
        return XXH3_64bits_withSecret(k, offsetof(struct flow_key, addr) + 8, t->secret,
                                      sizeof t->secret);
    return XXH3_64bits_withSecret(k, offsetof(struct flow_key, addr) + 32, t->secret,
                                  sizeof t->secret);
}

_Static_assert(offsetof(struct flow_key, addr) == 8, "an IPv4 key is 16 bytes");

/* Same key?  IPv4 keys are two 8-byte words (the family byte is in the first). */
static bool key_equal(const struct flow_key *a, const struct flow_key *b)
{
    if (b->family != 6) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8);
        memcpy(&a1, (const uint8_t *)a + 8, 8);
        memcpy(&b0, b, 8);
        memcpy(&b1, (const uint8_t *)b + 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return memcmp(a, b, key_len(b)) == 0;
}

static void make_secret(uint8_t *secret, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(secret + got, n - got, GRND_NONBLOCK);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < n) { /* no entropy source: still vary per run */
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)secret;
        for (size_t i = got; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            secret[i] = (uint8_t)(x >> 56);
        }
    }
}

/* ---------------------------------------------------------------- LRU lists */

static void lru_unlink(struct flow_table *t, uint32_t s)
{
    struct flow_entry *e = &t->e[s];
    struct lru *l = &t->lru[e->cls];
    if (e->prev != FLOW_NONE)
        t->e[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next != FLOW_NONE)
        t->e[e->next].prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = FLOW_NONE;
}

static void lru_append(struct flow_table *t, uint32_t s, enum flow_class cls)
{
    struct flow_entry *e = &t->e[s];
    struct lru *l = &t->lru[cls];
    e->cls = (uint8_t)cls;
    e->next = FLOW_NONE;
    e->prev = l->tail;
    if (l->tail != FLOW_NONE)
        t->e[l->tail].next = s;
    else
        l->head = s;
    l->tail = s;
}

/* ---------------------------------------------------------------- create / free */

struct flow_table *flow_table_new(const struct flow_table_opts *o, flow_end_fn on_end, void *ctx)
{
    if (o->max_conns == 0 || o->max_conns > (1u << 30))
        return NULL;
    struct flow_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->o = *o;
    t->on_end = on_end;
    t->ctx = ctx;
    uint64_t cells = 16;
    while (cells < (uint64_t)o->max_conns * 2)
        cells <<= 1;
    t->index_mask = (uint32_t)(cells - 1);
    t->index = calloc(cells, sizeof *t->index);
    t->e = calloc(o->max_conns, sizeof *t->e);
    if (!t->index || !t->e) {
        flow_table_free(t);
        return NULL;
    }
    /* Never-used slots are handed out in order (n_fresh), released ones through the free
     * list, so creation touches no slot memory. */
    t->free_head = FLOW_NONE;
    for (int c = 0; c < FLOW_CLASS_COUNT; c++)
        t->lru[c].head = t->lru[c].tail = FLOW_NONE;
    make_secret(t->secret, sizeof t->secret);
    t->next_deadline = INT64_MAX;
    return t;
}

void flow_table_free(struct flow_table *t)
{
    if (!t)
        return;
    free(t->index);
    free(t->e);
    free(t);
}

/* ---------------------------------------------------------------- index */

static uint32_t index_find(const struct flow_table *t, const struct flow_key *k, uint64_t h,
                           uint32_t *cell_out)
{
    uint32_t i = (uint32_t)h & t->index_mask;
    for (;;) {
        uint32_t v = t->index[i];
        if (v == SLOT_FREE) {
            *cell_out = i;
            return FLOW_NONE;
        }
        const struct flow_entry *e = &t->e[v - 1];
        if (e->hash == h && key_equal(&e->key, k)) {
            *cell_out = i;
            return v - 1;
        }
        i = (i + 1) & t->index_mask;
    }
}

/* Remove a cell and shift later members of its probe chain back into the hole. */
static void index_delete(struct flow_table *t, uint32_t hole)
{
    uint32_t i = hole;
    for (;;) {
        i = (i + 1) & t->index_mask;
        uint32_t v = t->index[i];
        if (v == SLOT_FREE)
            break;
        uint32_t home = (uint32_t)t->e[v - 1].hash & t->index_mask;
        /* move v back if its home is not in (hole, i] (cyclically) */
        bool in_range = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!in_range) {
            t->index[hole] = v;
            hole = i;
        }
    }
    t->index[hole] = SLOT_FREE;
}

uint32_t flow_table_find(struct flow_table *t, const struct flow_key *k)
{
    uint32_t cell;
    return index_find(t, k, key_hash(t, k), &cell);
}

uint64_t flow_table_hash(const struct flow_table *t, const struct flow_key *k)
{
    return key_hash(t, k);
}

uint32_t flow_table_find_hashed(struct flow_table *t, const struct flow_key *k, uint64_t hash)
{
    uint32_t cell;
    return index_find(t, k, hash, &cell);
}

void flow_table_prefetch_index(const struct flow_table *t, uint64_t hash)
{
    __builtin_prefetch(&t->index[(uint32_t)hash & t->index_mask]);
}

uint32_t flow_table_guess(const struct flow_table *t, uint64_t hash)
{
    uint32_t v = t->index[(uint32_t)hash & t->index_mask];
    return v == SLOT_FREE ? FLOW_NONE : v - 1;
}

void flow_table_prefetch_links(const struct flow_table *t, uint32_t slot)
{
    const struct flow_entry *e = &t->e[slot];
    if (e->prev != FLOW_NONE)
        __builtin_prefetch(&t->e[e->prev], 1);
    if (e->next != FLOW_NONE)
        __builtin_prefetch(&t->e[e->next], 1);
}

void flow_table_prefetch_slot(const struct flow_table *t, uint32_t slot)
{
    const char *e = (const char *)&t->e[slot];
    __builtin_prefetch(e);
    __builtin_prefetch(e + sizeof t->e[0] - 1); /* an entry may straddle two lines */
}

static void release(struct flow_table *t, uint32_t s)
{
    struct flow_entry *e = &t->e[s];
    uint32_t cell;
    if (index_find(t, &e->key, e->hash, &cell) == s)
        index_delete(t, cell);
    lru_unlink(t, s);
    e->used = 0;
    e->next = t->free_head;
    t->free_head = s;
    t->n_used--;
}

/* ---------------------------------------------------------------- eviction / expiry */

static uint32_t pick_victim(const struct flow_table *t)
{
    if (t->lru[FLOW_HALF_OPEN].head != FLOW_NONE)
        return t->lru[FLOW_HALF_OPEN].head;
    uint32_t best = FLOW_NONE;
    for (int c = 0; c < FLOW_CLASS_COUNT; c++) {
        uint32_t h = t->lru[c].head;
        if (h != FLOW_NONE && (best == FLOW_NONE || t->e[h].last_ns < t->e[best].last_ns))
            best = h;
    }
    return best;
}

static void end_slot(struct flow_table *t, uint32_t s, enum flow_end_reason why)
{
    if (t->on_end)
        t->on_end(t->ctx, s, why);
    if (t->e[s].used)
        release(t, s);
}

/* The deadline of each list is its head's; entries behind it are younger. */
static void lower_deadline(struct flow_table *t, int64_t now, enum flow_class cls)
{
    int64_t d = now + t->o.timeout_ns[cls];
    if (d < t->next_deadline)
        t->next_deadline = d;
}

void flow_table_expire(struct flow_table *t, int64_t now)
{
    if (now < t->next_deadline) /* the common case: nothing can have expired */
        return;
    t->next_deadline = INT64_MAX;
    for (int c = 0; c < FLOW_CLASS_COUNT; c++) {
        while (t->lru[c].head != FLOW_NONE) {
            uint32_t s = t->lru[c].head;
            if (now - t->e[s].last_ns < t->o.timeout_ns[c]) {
                lower_deadline(t, t->e[s].last_ns, (enum flow_class)c);
                break;
            }
            t->st.expired[c]++;
            end_slot(t, s, FLOW_END_EXPIRED);
        }
    }
}

/* ---------------------------------------------------------------- insert / touch */

uint32_t flow_table_insert(struct flow_table *t, const struct flow_key *k, int64_t now,
                           enum flow_class cls)
{
    if (t->n_used >= t->o.max_conns) {
        uint32_t v = pick_victim(t);
        if (t->e[v].cls == FLOW_HALF_OPEN)
            t->st.evicted_half_open++;
        else
            t->st.evicted_active++;
        end_slot(t, v, FLOW_END_EVICTED);
    }
    uint32_t s;
    if (t->free_head != FLOW_NONE) {
        s = t->free_head;
        t->free_head = t->e[s].next;
    } else {
        s = t->n_fresh++; /* n_used < max here, and every released slot is on the free list */
    }
    struct flow_entry *e = &t->e[s];
    e->key = *k;
    e->hash = key_hash(t, k);
    e->last_ns = now;
    e->used = 1;
    uint32_t cell;
    index_find(t, k, e->hash, &cell);
    t->index[cell] = s + 1;
    lru_append(t, s, cls);
    lower_deadline(t, now, cls);
    t->n_used++;
    t->st.inserted++;
    if (t->n_used > t->st.peak)
        t->st.peak = t->n_used;
    return s;
}

void flow_table_touch(struct flow_table *t, uint32_t s, int64_t now, enum flow_class cls)
{
    struct flow_entry *e = &t->e[s];
    if (now > e->last_ns)
        e->last_ns = now;
    if (e->cls != cls) /* a class with a shorter timeout may expire it sooner */
        lower_deadline(t, e->last_ns, cls);
    if (t->lru[cls].tail == s && e->cls == cls)
        return;
    lru_unlink(t, s);
    lru_append(t, s, cls);
}

void flow_table_remove(struct flow_table *t, uint32_t s)
{
    if (s < t->o.max_conns && t->e[s].used)
        release(t, s);
}

const struct flow_key *flow_table_key(const struct flow_table *t, uint32_t s)
{
    return &t->e[s].key;
}

uint32_t flow_table_count(const struct flow_table *t)
{
    return t->n_used;
}

uint32_t flow_table_capacity(const struct flow_table *t)
{
    return t->o.max_conns;
}

void flow_table_stats(const struct flow_table *t, struct flow_table_stats *st)
{
    *st = t->st;
}
