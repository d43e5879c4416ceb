/* flow_table.h - bounded table of connections keyed by the canonical TCP 4-tuple.
 *
 * Pipeline place: decode -> [flow table] -> tcp tracker.
 * The key puts the lower endpoint first, so both directions of a connection land in
 * one entry; a direction bit says which way a packet went.  Lookups use a keyed hash
 * (XXH3 with a random secret per table) so crafted tuples cannot pile into one chain.
 * Entries are fixed-size slots 0..max-1 allocated once; the tracker keeps its
 * per-connection record in a parallel array indexed by the same slot number.
 *
 * Timers run on packet timestamps only: offline results never depend on the clock.
 * Each entry is in one timeout class (half-open, active, closing); each class is an
 * LRU list, so expiry is a walk from the oldest end and eviction takes the oldest
 * half-open entry first, then the least recently active entry overall.
 */
#ifndef SYNACK_FLOW_TABLE_H
#define SYNACK_FLOW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/decode.h"

#define FLOW_NONE UINT32_MAX

/* Hashed and compared as bytes: the header and then 8 (IPv4) or 32 (IPv6) bytes of
 * addresses, so an IPv4 key costs 16 bytes of hashing, not 40. */
struct flow_key {
    uint16_t port[2];    /* [0] is the lower endpoint's (address, then port) */
    uint8_t family;      /* 4 or 6 */
    uint8_t pad[3];      /* always zero */
    uint8_t addr[32];    /* IPv4: [0..3] endpoint 0, [4..7] endpoint 1, the rest zero;
                            IPv6: [0..15] endpoint 0, [16..31] endpoint 1 */
};

/* Address of endpoint i (0 or 1) in a key. */
static inline const uint8_t *flow_key_addr(const struct flow_key *k, int i)
{
    return k->addr + (k->family == 6 ? 16 : 4) * i;
}

enum flow_class {
    FLOW_HALF_OPEN = 0, /* a SYN and nothing after it */
    FLOW_ACTIVE,        /* anything else not closing */
    FLOW_CLOSING,       /* TIME_WAIT or both sides closed: kept 2*MSL */
    FLOW_CLASS_COUNT
};

enum flow_end_reason {
    FLOW_END_EXPIRED, /* idle longer than its class timeout (TIME_WAIT: 2*MSL over) */
    FLOW_END_EVICTED, /* the table was full and a new connection needed its slot */
};

struct flow_table_opts {
    uint32_t max_conns;                        /* hard cap on live entries (>= 1) */
    int64_t timeout_ns[FLOW_CLASS_COUNT];      /* idle timeout per class */
};

struct flow_table;

/* Called for every entry the table removes on its own (expiry, eviction), before the
 * slot is reused.  The tracker finalises the connection in that slot. */
typedef void (*flow_end_fn)(void *ctx, uint32_t slot, enum flow_end_reason why);

/* Create a table.  Returns NULL when memory is short.  Memory is reserved once;
 * pages are touched only as slots are used. */
struct flow_table *flow_table_new(const struct flow_table_opts *o, flow_end_fn on_end,
                                  void *ctx);
void flow_table_free(struct flow_table *t);

/* Canonical key of a decoded IP packet with ports (TCP).  *reversed is set when the
 * packet goes from endpoint [1] to endpoint [0]. */
void flow_key_from_packet(struct flow_key *k, bool *reversed, const struct packet *p);

/* Slot of the entry with this key, or FLOW_NONE. */
uint32_t flow_table_find(struct flow_table *t, const struct flow_key *k);

/* The same in two steps, for a caller that looks several packets ahead: the key's hash
 * (pure), then the lookup with it.  flow_table_prefetch_index() asks the CPU for the
 * index cell the lookup will read first; flow_table_guess() reads that cell and returns
 * the slot most likely to hold the key (FLOW_NONE if the cell is empty), only a hint for
 * prefetching: the table may change before the real lookup. */
uint64_t flow_table_hash(const struct flow_table *t, const struct flow_key *k);
uint32_t flow_table_find_hashed(struct flow_table *t, const struct flow_key *k, uint64_t hash);
void flow_table_prefetch_index(const struct flow_table *t, uint64_t hash);
uint32_t flow_table_guess(const struct flow_table *t, uint64_t hash);
/* Ask the CPU for a slot's entry (key and timer links). */
void flow_table_prefetch_slot(const struct flow_table *t, uint32_t slot);
/* Ask for the entries a touch of slot will relink (its timer-list neighbours); reads
 * the slot's entry, so call it once that has been asked for. */
void flow_table_prefetch_links(const struct flow_table *t, uint32_t slot);

/* Insert a new entry (the key must not be present) in class cls at time now.  When
 * the table is full, one entry is evicted first (on_end is called for it).  Returns
 * the slot. */
uint32_t flow_table_insert(struct flow_table *t, const struct flow_key *k, int64_t now,
                           enum flow_class cls);

/* Mark activity on a slot at time now and (re)file it under class cls. */
void flow_table_touch(struct flow_table *t, uint32_t slot, int64_t now, enum flow_class cls);

/* Remove a slot (the tracker finalised it itself).  on_end is not called. */
void flow_table_remove(struct flow_table *t, uint32_t slot);

/* Expire every entry idle past its class timeout at time now (on_end for each). */
void flow_table_expire(struct flow_table *t, int64_t now);

/* Key stored in a slot. */
const struct flow_key *flow_table_key(const struct flow_table *t, uint32_t slot);

/* Entries live now, and the cap. */
uint32_t flow_table_count(const struct flow_table *t);
uint32_t flow_table_capacity(const struct flow_table *t);

/* Counters since creation. */
struct flow_table_stats {
    uint64_t inserted;
    uint64_t evicted_half_open;
    uint64_t evicted_active; /* LRU eviction of a non-half-open entry */
    uint64_t expired[FLOW_CLASS_COUNT];
    uint32_t peak;           /* most entries live at once */
};
void flow_table_stats(const struct flow_table *t, struct flow_table_stats *st);

#endif
