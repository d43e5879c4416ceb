/* spool.h - text rows kept in a temporary file, replayed in key order at the end.
 *
 * Pipeline place: used by sinks that print per-connection output only once the input
 * is over (the connection table, the ladder diagrams), so that memory stays flat
 * however many connections a capture has: 24 bytes of index per row in memory, the
 * text on disk.  A row that cannot be kept (no memory, a write error) is counted,
 * never silently lost: the replay says how many.
 */
#ifndef SYNACK_SPOOL_H
#define SYNACK_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outbuf.h"

struct spool_ref {
    uint64_t key, order; /* replayed sorted by (key, order) */
    long off;
    uint32_t len;
};

struct spool {
    FILE *f;
    struct spool_ref *refs;
    size_t n, cap;
    uint32_t max_len;
    uint64_t lost;     /* rows that could not be kept */
};

/* Open the temporary file.  Returns 0, or -1 (then every row added is counted lost). */
int spool_open(struct spool *sp);

/* Keep n bytes of text under (key, order). */
void spool_add(struct spool *sp, uint64_t key, uint64_t order, const char *text, size_t n);

/* Rows kept so far. */
size_t spool_count(const struct spool *sp);

/* Write every row to out in (key, order) order, then a line saying how many rows were
 * lost, if any. */
void spool_replay(struct spool *sp, struct outbuf *out);

void spool_close(struct spool *sp);

#endif
