/* tracker_timers.c - connection lifetimes in the tracker: timers that run on packet
 * timestamps only (TIME_WAIT for 2*MSL, idle and half-open expiry), eviction when the
 * table is full (half-open first, then least recently active), connection ids in order
 * of first packet and the records at end of input in id order, all counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracker/trk.h"

static struct trk h_storage;

static struct trk *open_with(uint32_t max_conns)
{
    struct tcp_tracker_opts o;
    tcp_tracker_default_opts(&o);
    if (max_conns)
        o.max_conns = max_conns;
    trk_open(&h_storage, &o);
    return &h_storage;
}

static int teardown(void **state)
{
    (void)state;
    trk_close(&h_storage);
    return 0;
}

/* Defaults documented in tcp_tracker.h. */
static void test_default_opts(void **state)
{
    (void)state;
    struct tcp_tracker_opts o;
    tcp_tracker_default_opts(&o);
    assert_int_equal(o.max_conns, 262144);
    assert_int_equal(o.idle_ns, 300 * SEC);
    assert_int_equal(o.half_open_ns, 60 * SEC);
    assert_int_equal(o.msl_ns, 30 * SEC);
    open_with(0);
}

/* An established connection idle for the idle timeout ends (no state event). */
static void test_idle_expiry(void **state)
{
    (void)state;
    struct trk *h = open_with(0);
    handshake(h, 1000, 5000);
    int64_t last = h->now - h->step;
    h->now = last + h->o.idle_ns - 1;
    other(h);
    assert_int_equal(h->n_end, 0);
    h->now = last + h->o.idle_ns;
    other(h);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_IDLE);
    EXPECT_STATES(&h->ends[0], ESTABLISHED, ESTABLISHED);
    assert_int_equal(h->ends[0].last_ns, last);
    assert_int_equal(h->n_cb_ev, 0);
    EXPECT_ZEEK(&h->ends[0], "ShA", "S1");
    struct tcp_tracker_stats st;
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.ended_idle, 1);
    assert_int_equal(st.flow.expired[FLOW_ACTIVE], 1);
    /* a later packet of the same 4-tuple starts a new (mid-stream) connection */
    seg(h, C, "P.", 1001, 5001, 10);
    assert_int_equal(cur(h)->id, 2);
    assert_true(cur(h)->midstream);
}

/* Activity restarts the idle timer. */
static void test_idle_timer_restarts(void **state)
{
    (void)state;
    struct trk *h = open_with(0);
    handshake(h, 1000, 5000);
    h->now += h->o.idle_ns - 10 * MS;
    seg(h, C, "P.", 1001, 5001, 10);
    int64_t last = h->now - h->step;
    h->now = last + h->o.idle_ns - 1;
    other(h);
    assert_int_equal(h->n_end, 0);
    h->now = last + h->o.idle_ns;
    other(h);
    assert_int_equal(h->n_end, 1);
}

/* A SYN without answer is half-open: it expires after the shorter half-open timeout. */
static void test_half_open_expiry(void **state)
{
    (void)state;
    struct trk *h = open_with(0);
    seg(h, C, "S", 1000, 0, 0);
    h->now = T0 + h->o.half_open_ns - 1;
    other(h);
    assert_int_equal(h->n_end, 0);
    h->now = T0 + h->o.half_open_ns;
    other(h);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_IDLE);
    assert_int_equal(h->ends[0].handshake, HS_NO_REPLY);
    EXPECT_ZEEK(&h->ends[0], "S", "S0");
    struct tcp_tracker_stats st;
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.flow.expired[FLOW_HALF_OPEN], 1);
}

/* TIME_WAIT lasts 2*MSL on packet time: a TCP packet of another connection fires it
 * too, and it is reported through the event callback with the closing frame. */
static void test_time_wait_by_other_connection(void **state)
{
    (void)state;
    struct trk *h = open_with(0);
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, "F.", 5001, 1002, 0);
    int64_t last = h->now;
    seg(h, C, ".", 1002, 5002, 0);
    h->port[C] = 40001;
    h->now = last + 2 * h->o.msl_ns;
    seg(h, C, "S", 7000, 0, 0);
    assert_int_equal(cur(h)->id, 2);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_CLOSED);
    assert_int_equal(h->n_cb_ev, 1);
    EXPECT_EVENTS(h, 0, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, S, CLOSE_WAIT, LAST_ACK), EV(5, C, FIN_WAIT_1, TIME_WAIT),
                  EV(6, S, LAST_ACK, CLOSED), EV(6, C, TIME_WAIT, CLOSED),
                  EV(7, C, CLOSED, SYN_SENT));
    EXPECT_STATES(&h->ends[0], CLOSED, CLOSED);
}

/* Time never comes from the clock: with no later packet nothing expires, and the
 * connection is reported at the end of input in its TIME_WAIT state. */
static void test_no_packet_no_timer(void **state)
{
    (void)state;
    struct trk *h = open_with(0);
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, "F.", 5001, 1002, 0);
    seg(h, C, ".", 1002, 5002, 0);
    trk_finish(h);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_INPUT);
    EXPECT_STATES(&h->ends[0], TIME_WAIT, CLOSED);
    assert_int_equal(h->n_cb_ev, 0);
}

/* Eviction when the table is full: the oldest half-open connection first, then the
 * least recently active one; every eviction counted. */
static void test_eviction_order(void **state)
{
    (void)state;
    struct trk *h = open_with(3);
    h->port[C] = 40001;
    handshake(h, 1000, 5000); /* conn 1: f1-3 */
    h->port[C] = 40002;
    seg(h, C, "S", 2000, 0, 0); /* conn 2: half-open, f4 */
    h->port[C] = 40003;
    handshake(h, 3000, 5000); /* conn 3: f5-7 */
    h->port[C] = 40004;
    seg(h, C, "S", 4000, 0, 0); /* conn 4: table full, conn 2 goes */
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->ends[0].id, 2);
    assert_int_equal(h->why[0], CONN_END_EVICTED);
    seg(h, S, "S.", 5000, 4001, 0);
    seg(h, C, ".", 4001, 5001, 0); /* conn 4 established, f10 */
    h->port[C] = 40001;
    seg(h, C, "P.", 1001, 5001, 10); /* conn 1 active again, f11 */
    assert_int_equal(cur(h)->id, 1);
    h->port[C] = 40005;
    seg(h, C, "S", 5000, 0, 0); /* conn 5: no half-open left, conn 3 is the oldest */
    assert_int_equal(cur(h)->id, 5);
    assert_int_equal(h->n_end, 2);
    assert_int_equal(h->ends[1].id, 3);
    assert_int_equal(h->why[1], CONN_END_EVICTED);
    EXPECT_STATES(&h->ends[1], ESTABLISHED, ESTABLISHED);
    struct tcp_tracker_stats st;
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.conns, 5);
    assert_int_equal(st.ended_evicted, 2);
    assert_int_equal(st.flow.evicted_half_open, 1);
    assert_int_equal(st.flow.evicted_active, 1);
    assert_int_equal(st.flow.peak, 3);
    trk_finish(h);
    assert_int_equal(h->n_end, 5);
    assert_int_equal(h->ends[2].id, 1);
    assert_int_equal(h->ends[3].id, 4);
    assert_int_equal(h->ends[4].id, 5);
    for (int i = 2; i < 5; i++)
        assert_int_equal(h->why[i], CONN_END_INPUT);
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.ended_input, 3);
}

/* A table of one: every new connection evicts the previous one. */
static void test_eviction_table_of_one(void **state)
{
    (void)state;
    struct trk *h = open_with(1);
    for (uint16_t i = 0; i < 4; i++) {
        h->port[C] = (uint16_t)(40000 + i);
        handshake(h, 1000, 5000);
        assert_int_equal(cur(h)->id, i + 1);
    }
    assert_int_equal(h->n_end, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h->ends[i].id, i + 1);
        assert_int_equal(h->why[i], CONN_END_EVICTED);
    }
}

/* Ids count from 1 in order of first packet; at end of input the records come in id
 * order even when slots were reused out of order. */
static void test_ids_and_end_order(void **state)
{
    (void)state;
    struct trk *h = open_with(8);
    h->port[C] = 40001;
    handshake(h, 1000, 5000); /* id 1, slot 0 */
    assert_int_equal(cur(h)->id, 1);
    h->port[C] = 40002;
    seg(h, C, "S", 2000, 0, 0); /* id 2, slot 1 */
    assert_int_equal(cur(h)->id, 2);
    h->port[C] = 40003;
    seg(h, C, "P.", 3001, 5001, 10); /* id 3, slot 2 */
    assert_int_equal(cur(h)->id, 3);
    h->port[C] = 40002;
    seg(h, S, "R.", 0, 2001, 0); /* id 2 refused: ends at the next packet */
    h->port[C] = 40004;
    seg(h, C, "S", 4000, 0, 0); /* id 4 takes the freed slot 1 */
    assert_int_equal(cur(h)->id, 4);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->ends[0].id, 2);
    h->port[C] = 40001;
    seg(h, C, "P.", 1001, 5001, 10); /* id 1 again */
    assert_int_equal(cur(h)->id, 1);
    trk_finish(h);
    assert_int_equal(h->n_end, 4);
    assert_int_equal(h->ends[1].id, 1);
    assert_int_equal(h->ends[2].id, 3);
    assert_int_equal(h->ends[3].id, 4);
    struct tcp_tracker_stats st;
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.conns, 4);
    assert_int_equal(st.ended_closed, 1);
    assert_int_equal(st.ended_input, 3);
    assert_int_equal(st.flow.inserted, 4);
}

/* Non-TCP packets and TCP packets the decoder could not read are not tracked. */
static void test_untracked_packets(void **state)
{
    (void)state;
    struct trk *h = open_with(0);
    other(h);
    assert_null(h->ti.conn);
    mk(h, C, "S", 1000, 0, 0);
    h->p.tcp_valid = false;
    feed(h);
    assert_null(h->ti.conn);
    trk_finish(h);
    assert_int_equal(h->n_end, 0);
    struct tcp_tracker_stats st;
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.conns, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
        T(test_default_opts),
        T(test_idle_expiry),
        T(test_idle_timer_restarts),
        T(test_half_open_expiry),
        T(test_time_wait_by_other_connection),
        T(test_no_packet_no_timer),
        T(test_eviction_order),
        T(test_eviction_table_of_one),
        T(test_ids_and_end_order),
        T(test_untracked_packets),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
