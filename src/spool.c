/* spool.c - text rows in a temporary file, replayed in key order (see spool.h). */
#include "spool.h"

#include <stdlib.h>
#include <string.h>

int spool_open(struct spool *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->f = tmpfile();
    return sp->f ? 0 : -1;
}

void spool_add(struct spool *sp, uint64_t key, uint64_t order, const char *text, size_t n)
{
    if (!sp->f) {
        sp->lost++;
        return;
    }
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 256;
        struct spool_ref *r = realloc(sp->refs, cap * sizeof *r);
        if (!r) {
            sp->lost++;
            return;
        }
        sp->refs = r;
        sp->cap = cap;
    }
    long off = ftell(sp->f);
    if (off < 0 || n > UINT32_MAX || fwrite(text, 1, n, sp->f) != n) {
        sp->lost++;
        return;
    }
    sp->refs[sp->n++] = (struct spool_ref){key, order, off, (uint32_t)n};
    if (n > sp->max_len)
        sp->max_len = (uint32_t)n;
}

size_t spool_count(const struct spool *sp)
{
    return sp->n;
}

static int ref_cmp(const void *a, const void *b)
{
    const struct spool_ref *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void spool_replay(struct spool *sp, struct outbuf *out)
{
    char *buf = sp->n ? malloc(sp->max_len ? sp->max_len : 1) : NULL;
    if (sp->n && (!buf || fflush(sp->f) != 0)) {
        sp->lost += sp->n;
        sp->n = 0;
    }
    if (sp->n) /* qsort's pointer must not be NULL, even for no elements */
        qsort(sp->refs, sp->n, sizeof *sp->refs, ref_cmp);
    for (size_t i = 0; i < sp->n; i++) {
        const struct spool_ref *r = &sp->refs[i];
        if (fseek(sp->f, r->off, SEEK_SET) != 0 || fread(buf, 1, r->len, sp->f) != r->len) {
            sp->lost += sp->n - i;
            break;
        }
        outbuf_put(out, buf, r->len);
        outbuf_maybe_flush(out);
    }
    free(buf);
    if (sp->lost)
        outbuf_printf(out, "(%llu rows not shown: the temporary file or memory for them "
                           "failed)\n",
                      (unsigned long long)sp->lost);
}

void spool_close(struct spool *sp)
{
    if (sp->f)
        fclose(sp->f);
    free(sp->refs);
    memset(sp, 0, sizeof *sp);
}
