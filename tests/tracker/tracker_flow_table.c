/* tracker_flow_table.c - the flow table under the tracker: canonical keys (both
 * directions of a tuple give one key, with the right reversed bit), keyed-hash lookups
 * for many keys, removal with backward shift (no tombstones) checked against a shadow
 * copy, LRU classes, expiry per class and eviction order with its counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synack/flow_table.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void v4_packet(struct packet *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
    memset(p, 0, sizeof *p);
    p->l3 = L3_IPV4;
    p->ip.version = 4;
    p->ip.src[0] = (uint8_t)(src >> 24);
    p->ip.src[1] = (uint8_t)(src >> 16);
    p->ip.src[2] = (uint8_t)(src >> 8);
    p->ip.src[3] = (uint8_t)src;
    p->ip.dst[0] = (uint8_t)(dst >> 24);
    p->ip.dst[1] = (uint8_t)(dst >> 16);
    p->ip.dst[2] = (uint8_t)(dst >> 8);
    p->ip.dst[3] = (uint8_t)dst;
    p->l4 = L4_TCP;
    p->tcp_valid = true;
    p->u.tcp.sport = sport;
    p->u.tcp.dport = dport;
}

/* Key number i: a distinct client tuple toward one server. */
static void key_n(struct flow_key *k, uint32_t i)
{
    struct packet p;
    bool rev;
    v4_packet(&p, 0x0A000000u | (i >> 8), (uint16_t)(1024 + (i & 0xff)), 0xC0A80001u, 443);
    flow_key_from_packet(k, &rev, &p);
}

struct ends {
    uint32_t n;
    uint32_t slot[64];
    enum flow_end_reason why[64];
};

static void on_end(void *ctx, uint32_t slot, enum flow_end_reason why)
{
    struct ends *e = ctx;
    if (e && e->n < 64) {
        e->slot[e->n] = slot;
        e->why[e->n] = why;
        e->n++;
    }
}

static struct flow_table *table(uint32_t max, struct ends *e)
{
    struct flow_table_opts o = {.max_conns = max};
    o.timeout_ns[FLOW_HALF_OPEN] = 60;
    o.timeout_ns[FLOW_ACTIVE] = 300;
    o.timeout_ns[FLOW_CLOSING] = 120;
    struct flow_table *t = flow_table_new(&o, on_end, e);
    assert_non_null(t);
    return t;
}

/* ---------------------------------------------------------------- keys */

static void test_key_both_directions(void **state)
{
    (void)state;
    struct packet a, b;
    struct flow_key ka, kb;
    bool ra, rb;
    v4_packet(&a, 0x0A000001u, 40000, 0x0A000002u, 80);
    v4_packet(&b, 0x0A000002u, 80, 0x0A000001u, 40000);
    flow_key_from_packet(&ka, &ra, &a);
    flow_key_from_packet(&kb, &rb, &b);
    assert_memory_equal(&ka, &kb, sizeof ka);
    assert_false(ra); /* 10.0.0.1 is the lower endpoint: a goes [0] -> [1] */
    assert_true(rb);
    assert_int_equal(ka.family, 4);
    assert_int_equal(ka.port[0], 40000);
    assert_int_equal(ka.port[1], 80);
    assert_int_equal(flow_key_addr(&ka, 0)[3], 1);
    assert_int_equal(flow_key_addr(&ka, 1)[3], 2);
    for (size_t i = 8; i < sizeof ka.addr; i++) /* unused address bytes are zero */
        assert_int_equal(ka.addr[i], 0);

    /* same address: the lower port comes first */
    v4_packet(&a, 0x7F000001u, 5000, 0x7F000001u, 4000);
    v4_packet(&b, 0x7F000001u, 4000, 0x7F000001u, 5000);
    flow_key_from_packet(&ka, &ra, &a);
    flow_key_from_packet(&kb, &rb, &b);
    assert_memory_equal(&ka, &kb, sizeof ka);
    assert_true(ra);
    assert_false(rb);
    assert_int_equal(ka.port[0], 4000);

    /* IPv6 */
    memset(&a, 0, sizeof a);
    a.l3 = L3_IPV6;
    a.ip.version = 6;
    a.ip.src[0] = 0xfe;
    a.ip.src[15] = 9;
    a.ip.dst[0] = 0xfe;
    a.ip.dst[15] = 1;
    a.l4 = L4_TCP;
    a.u.tcp.sport = 1;
    a.u.tcp.dport = 2;
    b = a;
    memcpy(b.ip.src, a.ip.dst, 16);
    memcpy(b.ip.dst, a.ip.src, 16);
    b.u.tcp.sport = 2;
    b.u.tcp.dport = 1;
    flow_key_from_packet(&ka, &ra, &a);
    flow_key_from_packet(&kb, &rb, &b);
    assert_memory_equal(&ka, &kb, sizeof ka);
    assert_true(ra);
    assert_false(rb);
    assert_int_equal(ka.family, 6);
    assert_int_equal(flow_key_addr(&ka, 0)[15], 1);
    assert_int_equal(flow_key_addr(&ka, 1)[15], 9);
    assert_int_equal(ka.port[0], 2);

    /* an IPv4 and an IPv6 tuple with the same leading bytes differ */
    struct packet c4;
    v4_packet(&c4, 0xfe000000u, 1, 0xfe000000u, 2);
    struct flow_key k4;
    flow_key_from_packet(&k4, &ra, &c4);
    assert_int_not_equal(memcmp(&k4, &ka, sizeof k4), 0);
}

/* ---------------------------------------------------------------- lookups */

static void test_many_keys(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct flow_table *t = table(N, NULL);
    static uint32_t slot_of[N];
    for (uint32_t i = 0; i < N; i++) {
        struct flow_key k;
        key_n(&k, i);
        assert_int_equal(flow_table_find(t, &k), FLOW_NONE);
        slot_of[i] = flow_table_insert(t, &k, 1, FLOW_ACTIVE);
        assert_true(slot_of[i] < N);
    }
    assert_int_equal(flow_table_count(t), N);
    assert_int_equal(flow_table_capacity(t), N);
    for (uint32_t i = 0; i < N; i++) {
        struct flow_key k;
        key_n(&k, i);
        assert_int_equal(flow_table_find(t, &k), slot_of[i]);
        assert_memory_equal(flow_table_key(t, slot_of[i]), &k, sizeof k);
    }
    struct flow_key other;
    key_n(&other, N + 1);
    assert_int_equal(flow_table_find(t, &other), FLOW_NONE);
    struct flow_table_stats st;
    flow_table_stats(t, &st);
    assert_int_equal(st.inserted, N);
    assert_int_equal(st.peak, N);
    assert_int_equal(st.evicted_active + st.evicted_half_open, 0);
    flow_table_free(t);
}

/* Insert N, remove a random half: every remaining key is still found (the backward
 * shift kept the probe chains whole), no removed key is; then put them back. */
static void test_remove_backshift(void **state)
{
    (void)state;
    enum { N = 4096 };
    struct flow_table *t = table(N, NULL);
    static uint32_t slot_of[N];
    static bool live[N];
    for (uint32_t i = 0; i < N; i++) {
        struct flow_key k;
        key_n(&k, i);
        slot_of[i] = flow_table_insert(t, &k, 1, FLOW_ACTIVE);
        live[i] = true;
    }
    uint32_t removed = 0;
    for (uint32_t i = 0; i < N; i++) {
        if (rnd() & 1) {
            flow_table_remove(t, slot_of[i]);
            live[i] = false;
            removed++;
        }
    }
    assert_int_equal(flow_table_count(t), N - removed);
    for (uint32_t i = 0; i < N; i++) {
        struct flow_key k;
        key_n(&k, i);
        assert_int_equal(flow_table_find(t, &k), live[i] ? slot_of[i] : FLOW_NONE);
    }
    for (uint32_t i = 0; i < N; i++) {
        if (!live[i]) {
            struct flow_key k;
            key_n(&k, i);
            slot_of[i] = flow_table_insert(t, &k, 2, FLOW_ACTIVE);
            live[i] = true;
        }
    }
    assert_int_equal(flow_table_count(t), N);
    for (uint32_t i = 0; i < N; i++) {
        struct flow_key k;
        key_n(&k, i);
        assert_int_equal(flow_table_find(t, &k), slot_of[i]);
    }
    flow_table_free(t);
}

/* Random inserts and removals at full load, checked against a shadow after each step. */
static void test_churn_against_shadow(void **state)
{
    (void)state;
    enum { N = 512, KEYS = 2048, STEPS = 20000 };
    struct flow_table *t = table(N, NULL);
    static uint32_t slot_of[KEYS];
    static bool live[KEYS];
    memset(live, 0, sizeof live);
    uint32_t n_live = 0;
    for (int step = 0; step < STEPS; step++) {
        uint32_t i = rnd() % KEYS;
        struct flow_key k;
        key_n(&k, i);
        if (live[i]) {
            flow_table_remove(t, slot_of[i]);
            live[i] = false;
            n_live--;
        } else if (n_live < N) {
            slot_of[i] = flow_table_insert(t, &k, step, FLOW_ACTIVE);
            live[i] = true;
            n_live++;
        }
        if (step % 97 == 0) {
            for (uint32_t j = 0; j < KEYS; j++) {
                struct flow_key kj;
                key_n(&kj, j);
                assert_int_equal(flow_table_find(t, &kj), live[j] ? slot_of[j] : FLOW_NONE);
            }
        }
        assert_int_equal(flow_table_count(t), n_live);
    }
    flow_table_free(t);
}

/* ---------------------------------------------------------------- classes, expiry, eviction */

static void test_expiry_per_class(void **state)
{
    (void)state;
    struct ends e = {0};
    struct flow_table *t = table(8, &e);
    struct flow_key k0, k1, k2;
    key_n(&k0, 0);
    key_n(&k1, 1);
    key_n(&k2, 2);
    uint32_t s0 = flow_table_insert(t, &k0, 0, FLOW_HALF_OPEN); /* 60 */
    uint32_t s1 = flow_table_insert(t, &k1, 0, FLOW_ACTIVE);    /* 300 */
    uint32_t s2 = flow_table_insert(t, &k2, 0, FLOW_CLOSING);   /* 120 */
    flow_table_expire(t, 59);
    assert_int_equal(e.n, 0);
    flow_table_expire(t, 60);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.slot[0], s0);
    assert_int_equal(e.why[0], FLOW_END_EXPIRED);
    assert_int_equal(flow_table_find(t, &k0), FLOW_NONE);
    flow_table_touch(t, s1, 100, FLOW_ACTIVE); /* activity restarts its timer */
    flow_table_expire(t, 120);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.slot[1], s2);
    flow_table_expire(t, 399);
    assert_int_equal(e.n, 2);
    flow_table_expire(t, 400);
    assert_int_equal(e.n, 3);
    assert_int_equal(e.slot[2], s1);
    assert_int_equal(flow_table_count(t), 0);
    struct flow_table_stats st;
    flow_table_stats(t, &st);
    assert_int_equal(st.expired[FLOW_HALF_OPEN], 1);
    assert_int_equal(st.expired[FLOW_ACTIVE], 1);
    assert_int_equal(st.expired[FLOW_CLOSING], 1);
    flow_table_free(t);
}

/* Touching re-files an entry under its new class. */
static void test_touch_changes_class(void **state)
{
    (void)state;
    struct ends e = {0};
    struct flow_table *t = table(8, &e);
    struct flow_key k;
    key_n(&k, 0);
    uint32_t s = flow_table_insert(t, &k, 0, FLOW_HALF_OPEN);
    flow_table_touch(t, s, 10, FLOW_ACTIVE);
    flow_table_expire(t, 200); /* past the half-open timeout: not half-open any more */
    assert_int_equal(e.n, 0);
    flow_table_touch(t, s, 200, FLOW_CLOSING);
    flow_table_expire(t, 319);
    assert_int_equal(e.n, 0);
    flow_table_expire(t, 320);
    assert_int_equal(e.n, 1);
    flow_table_free(t);
}

/* When full: the oldest half-open entry goes first, then the least recently active. */
static void test_eviction(void **state)
{
    (void)state;
    struct ends e = {0};
    struct flow_table *t = table(3, &e);
    struct flow_key k[6];
    for (uint32_t i = 0; i < 6; i++)
        key_n(&k[i], i);
    uint32_t a = flow_table_insert(t, &k[0], 1, FLOW_ACTIVE);
    uint32_t b = flow_table_insert(t, &k[1], 2, FLOW_HALF_OPEN);
    uint32_t c = flow_table_insert(t, &k[2], 3, FLOW_CLOSING);
    flow_table_insert(t, &k[3], 4, FLOW_ACTIVE);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.slot[0], b);
    assert_int_equal(e.why[0], FLOW_END_EVICTED);
    assert_int_equal(flow_table_find(t, &k[1]), FLOW_NONE);
    flow_table_touch(t, a, 5, FLOW_ACTIVE);
    flow_table_insert(t, &k[4], 6, FLOW_ACTIVE); /* oldest now: c (3) */
    assert_int_equal(e.n, 2);
    assert_int_equal(e.slot[1], c);
    flow_table_insert(t, &k[5], 7, FLOW_ACTIVE); /* then k[3] (4) */
    assert_int_equal(e.n, 3);
    assert_int_equal(flow_table_find(t, &k[3]), FLOW_NONE);
    assert_int_not_equal(flow_table_find(t, &k[0]), FLOW_NONE);
    assert_int_equal(flow_table_count(t), 3);
    struct flow_table_stats st;
    flow_table_stats(t, &st);
    assert_int_equal(st.evicted_half_open, 1);
    assert_int_equal(st.evicted_active, 2);
    assert_int_equal(st.peak, 3);
    assert_int_equal(st.inserted, 6);
    flow_table_free(t);
}

static void test_bad_opts(void **state)
{
    (void)state;
    struct flow_table_opts o = {.max_conns = 0};
    assert_null(flow_table_new(&o, on_end, NULL));
    flow_table_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_both_directions),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_remove_backshift),
        cmocka_unit_test(test_churn_against_shadow),
        cmocka_unit_test(test_expiry_per_class),
        cmocka_unit_test(test_touch_changes_class),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_bad_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
