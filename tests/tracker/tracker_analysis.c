/* tracker_analysis.c - the tracker's sequence and acknowledgment analysis: bytes in
 * sequence space, wrap-around at 2^32, retransmissions (SYN, FIN, data), keep-alives,
 * zero windows and window probes, out-of-order fills, duplicate ACKs and fast
 * retransmissions, data acknowledged but never seen, segments above the MSS, TCP Fast
 * Open, ECN on the SYNs, handshake timings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracker/trk.h"

static int setup(void **state)
{
    static struct trk h;
    trk_open(&h, NULL);
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    trk_close(*state);
    return 0;
}

/* Sequence numbers near 2^32: data crossing the wrap counts right, nothing is taken for
 * a retransmission or a gap. */
static void test_wrap_around(void **state)
{
    struct trk *h = *state;
    const uint32_t ci = 0xFFFFFFF0u, si = 0xFFFFFF00u;
    handshake(h, ci, si);
    seg(h, C, "P.", ci + 1, si + 1, 1000); /* crosses 2^32 */
    assert_int_equal(h->p.anomalies, 0);
    seg(h, C, "P.", ci + 1 + 1000, si + 1, 1000);
    seg(h, S, ".", si + 1, ci + 1 + 2000, 0);
    seg(h, S, "P.", si + 1, ci + 1 + 2000, 600); /* the server's data crosses too */
    seg(h, C, ".", ci + 1 + 2000, si + 1 + 600, 0);
    seg(h, C, "F.", ci + 1 + 2000, si + 1 + 600, 0);
    seg(h, S, "F.", si + 1 + 600, ci + 2 + 2000, 0);
    seg(h, C, ".", ci + 2 + 2000, si + 2 + 600, 0);
    const struct conn *c = cur(h);
    EXPECT_STATES(c, TIME_WAIT, CLOSED);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 2000);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[S]), 600);
    for (int r = 0; r < 2; r++) {
        assert_int_equal(c->ep[r].retransmits, 0);
        assert_int_equal(c->ep[r].out_of_order, 0);
        assert_int_equal(c->ep[r].bytes_missed, 0);
        assert_int_equal(c->ep[r].dup_acks, 0);
    }
    assert_int_equal(c->close, CLOSE_FIN);
    EXPECT_ZEEK(c, "ShADadFf", "SF");
}

/* A retransmitted SYN, SYN/ACK and FIN are retransmissions; Zeek repeats no letter. */
static void test_retransmitted_syn_and_fin(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    h->now += 1 * SEC;
    seg(h, C, "S", 1000, 0, 0);
    assert_true(h->ti.retransmit);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    assert_true(h->ti.retransmit);
    seg(h, C, ".", 1001, 5001, 0);
    seg(h, C, "F.", 1001, 5001, 0);
    assert_false(h->ti.retransmit);
    seg(h, C, "F.", 1001, 5001, 0);
    assert_true(h->ti.retransmit);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].retransmits, 2);
    assert_int_equal(c->ep[S].retransmits, 1);
    assert_int_equal(c->ep[C].packets, 5);
    assert_int_equal(c->ep[S].packets, 2);
    assert_int_equal(c->handshake, HS_COMPLETE);
    /* the SYN/ACK answers the last SYN */
    assert_int_equal(c->synack_ns - c->syn_ns, 1 * MS);
    assert_int_equal(c->ack_ns - c->synack_ns, 2 * MS);
    EXPECT_STATES(c, FIN_WAIT_1, CLOSE_WAIT);
    EXPECT_ZEEK(c, "ShAF", "S2");
}

/* A SYN retransmitted after the SYN/ACK does not move the SYN time. */
static void test_rtt_from_last_syn_before_synack(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    h->now = T0 + 1 * SEC;
    seg(h, C, "S", 1000, 0, 0);
    h->now = T0 + 1 * SEC + 10 * MS;
    seg(h, S, "S.", 5000, 1001, 0);
    h->now = T0 + 1 * SEC + 11 * MS;
    seg(h, C, "S", 1000, 0, 0);
    h->now = T0 + 1 * SEC + 12 * MS;
    seg(h, S, "S.", 5000, 1001, 0);
    h->now = T0 + 1 * SEC + 20 * MS;
    seg(h, C, ".", 1001, 5001, 0);
    const struct conn *c = cur(h);
    assert_int_equal(c->synack_ns - c->syn_ns, 10 * MS);
    assert_int_equal(c->ack_ns - c->synack_ns, 10 * MS);
}

/* Keep-alives (seq = snd.nxt - 1, zero or one byte) are counted as such, not as
 * retransmissions, and their ACKs are not duplicate ACKs. */
static void test_keepalive(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, ".", 1000, 5001, 0); /* idle connection, no data yet */
    assert_true(h->ti.keepalive);
    seg(h, S, ".", 5001, 1001, 0);
    assert_false(h->ti.dup_ack);
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, S, ".", 5001, 1101, 0);
    seg(h, C, ".", 1100, 5001, 0);
    assert_true(h->ti.keepalive);
    assert_false(h->ti.retransmit);
    seg(h, S, ".", 5001, 1101, 0);
    assert_false(h->ti.dup_ack);
    seg(h, C, ".", 1100, 5001, 1); /* one garbage byte (BSD style) */
    assert_true(h->ti.keepalive);
    assert_false(h->ti.retransmit);
    seg(h, S, ".", 5001, 1101, 0);
    assert_false(h->ti.dup_ack);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].keepalives, 3);
    assert_int_equal(c->ep[C].retransmits, 0);
    assert_int_equal(c->ep[S].dup_acks, 0);
    assert_int_equal(c->ep[C].window_probes, 0);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 100);
    /* Zeek's retransmission test has no keep-alive exception: the one-byte probe is 'T' */
    EXPECT_ZEEK(c, "ShAaDT", "S1");
}

/* A zero window, then window probes: a zero-length one at snd.nxt - 1 (Linux) and a
 * one-byte one at snd.nxt. */
static void test_zero_window_probe(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 1000);
    h->win[S] = 0;
    seg(h, S, ".", 5001, 2001, 0);
    assert_true(h->ti.zero_window);
    seg(h, C, ".", 2000, 5001, 0);
    assert_true(h->ti.window_probe);
    assert_false(h->ti.keepalive);
    seg(h, S, ".", 5001, 2001, 0);
    assert_true(h->ti.zero_window);
    assert_false(h->ti.dup_ack);
    seg(h, C, "P.", 2001, 5001, 1);
    assert_true(h->ti.window_probe);
    assert_false(h->ti.retransmit);
    seg(h, S, ".", 5001, 2001, 0); /* the probe byte is not taken */
    assert_false(h->ti.dup_ack);   /* a zero window is no loss signal */
    h->win[S] = 65535;
    seg(h, S, ".", 5001, 2001, 0); /* window update */
    assert_false(h->ti.zero_window);
    seg(h, C, "P.", 2001, 5001, 500);
    assert_true(h->ti.retransmit); /* the probe byte is sent again */
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[S].zero_windows, 3);
    assert_int_equal(c->ep[C].window_probes, 2);
    assert_int_equal(c->ep[C].keepalives, 0);
    assert_int_equal(c->ep[C].retransmits, 1);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 1500);
    EXPECT_ZEEK(c, "ShADaw", "S1"); /* no segment ended at or below the highest seq */
}

/* Data arriving below the highest sequence seen: a fill of a hole is out-of-order, a
 * copy of what was seen is a retransmission. */
static void test_out_of_order_vs_retransmission(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, C, "P.", 1201, 5001, 100);
    assert_true(has_anomaly(h, ANOMALY_TCP_PREV_NOT_CAPTURED));
    seg(h, C, "P.", 1101, 5001, 100);
    assert_true(h->ti.out_of_order);
    assert_false(h->ti.retransmit);
    assert_int_equal(h->p.anomalies, 0);
    seg(h, C, "P.", 1001, 5001, 100);
    assert_true(h->ti.retransmit);
    assert_false(h->ti.out_of_order);
    seg(h, S, ".", 5001, 1301, 0);
    assert_int_equal(h->p.anomalies, 0);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].out_of_order, 1);
    assert_int_equal(c->ep[C].retransmits, 1);
    assert_int_equal(c->ep[C].bytes_missed, 0);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 300);
    /* Zeek's 'T' is any payload whose end does not pass the highest sequence */
    EXPECT_ZEEK(c, "ShADTa", "S1");
    assert_int_equal(c->hist_cnt[C][ZEEK_CNT_T], 2);
}

/* A fill in two pieces: the first narrows the hole, the second closes it. */
static void test_out_of_order_partial_fills(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, C, "P.", 1401, 5001, 100); /* hole 1101..1400 */
    seg(h, C, "P.", 1101, 5001, 100);
    assert_true(h->ti.out_of_order);
    seg(h, C, "P.", 1301, 5001, 100);
    assert_true(h->ti.out_of_order);
    seg(h, C, "P.", 1201, 5001, 100);
    assert_true(h->ti.out_of_order);
    seg(h, C, "P.", 1201, 5001, 100);
    assert_true(h->ti.retransmit);
    seg(h, S, ".", 5001, 1501, 0);
    assert_false(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN));
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].out_of_order, 3);
    assert_int_equal(c->ep[C].retransmits, 1);
    assert_int_equal(c->ep[C].bytes_missed, 0);
}

/* Three duplicate ACKs, then the retransmission of the segment they ask for: a fast
 * retransmission (capture at the sender: the lost segment was seen once). */
static void test_dup_acks_fast_retransmit(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    for (uint32_t i = 0; i < 5; i++)
        seg(h, C, "P.", 1001 + 100 * i, 5001, 100);
    seg(h, S, ".", 5001, 1101, 0);
    assert_false(h->ti.dup_ack);
    for (int i = 0; i < 3; i++) {
        seg(h, S, ".", 5001, 1101, 0);
        assert_true(h->ti.dup_ack);
    }
    seg(h, C, "P.", 1101, 5001, 100);
    assert_true(h->ti.retransmit);
    assert_true(h->ti.fast_retransmit);
    seg(h, S, ".", 5001, 1501, 0);
    assert_false(h->ti.dup_ack);
    seg(h, C, "P.", 1101, 5001, 100); /* again, with no new duplicate ACKs: not fast */
    assert_true(h->ti.retransmit);
    assert_false(h->ti.fast_retransmit);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[S].dup_acks, 3);
    assert_int_equal(c->ep[C].retransmits, 2);
    assert_int_equal(c->ep[C].fast_retransmits, 1);
    EXPECT_ZEEK(c, "ShADaT", "S1");
}

/* Two duplicate ACKs are not enough; a window change makes an ACK not a duplicate. */
static void test_dup_acks_not_enough(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    for (uint32_t i = 0; i < 3; i++)
        seg(h, C, "P.", 1001 + 100 * i, 5001, 100);
    seg(h, S, ".", 5001, 1101, 0);
    seg(h, S, ".", 5001, 1101, 0);
    assert_true(h->ti.dup_ack);
    h->win[S] = 30000;
    seg(h, S, ".", 5001, 1101, 0);
    assert_false(h->ti.dup_ack);
    seg(h, S, ".", 5001, 1101, 0);
    assert_true(h->ti.dup_ack);
    seg(h, C, "P.", 1101, 5001, 100);
    assert_true(h->ti.retransmit);
    assert_false(h->ti.fast_retransmit);
    assert_int_equal(cur(h)->ep[S].dup_acks, 2);
}

/* Data acknowledged that the capture never showed: missed bytes, Zeek 'G' in the
 * direction of the data (the originator's: upper case). */
static void test_acked_unseen(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 100);
    /* 1101..1200 not captured */
    seg(h, C, "P.", 1201, 5001, 100);
    assert_true(has_anomaly(h, ANOMALY_TCP_PREV_NOT_CAPTURED));
    seg(h, S, ".", 5001, 1301, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN));
    assert_int_equal(cur(h)->ep[C].bytes_missed, 100);
    /* 1301..1400 not captured, and nothing after it either */
    seg(h, S, ".", 5001, 1401, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN));
    seg(h, S, ".", 5001, 1401, 0);
    assert_false(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN));
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].bytes_missed, 200);
    assert_int_equal(c->ep[S].bytes_missed, 0);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 400);
    EXPECT_ZEEK(c, "ShADaG", "S1");
    /* the server's data: lower case */
    seg(h, S, "P.", 5001 + 50, 1401, 50);
    seg(h, C, ".", 1401, 5101, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN));
    assert_int_equal(cur(h)->ep[S].bytes_missed, 50);
    EXPECT_ZEEK(cur(h), "ShADaGdg", "S1");
}

/* Zeek counts a gap only while both sides are cleanly established: not mid-stream. */
static void test_acked_unseen_midstream(void **state)
{
    struct trk *h = *state;
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, S, ".", 5001, 1201, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN));
    assert_int_equal(cur(h)->ep[C].bytes_missed, 100);
    EXPECT_ZEEK(cur(h), "Da", "OTH");
}

/* Segment size against the MSS the receiver announced: payload plus option bytes. */
static void test_above_mss(void **state)
{
    struct trk *h = *state;
    h->mss[C] = 1460;
    h->mss[S] = 1460;
    h->optlen[C] = 12; /* timestamps */
    handshake(h, 1000, 5000);
    assert_int_equal(cur(h)->ep[S].mss, 1460);
    assert_true(cur(h)->ep[S].has_mss);
    uint32_t seq = 1001;
    seg(h, C, "P.", seq, 5001, 1448); /* 1448 + 12 = 1460: not above */
    assert_false(h->ti.above_mss);
    assert_int_equal(h->p.anomalies, 0);
    seq += 1448;
    seg(h, C, "P.", seq, 5001, 1449); /* 1461 */
    assert_true(h->ti.above_mss);
    assert_int_equal(h->ti.peer_mss, 1460);
    seq += 1449;
    seg(h, C, "P.", seq, 5001, 2896); /* offload super-segment */
    assert_true(h->ti.above_mss);
    seq += 2896;
    h->optlen[C] = 0;
    seg(h, C, "P.", seq, 5001, 1460); /* exactly the MSS, no options */
    assert_false(h->ti.above_mss);
    seq += 1460;
    seg(h, C, "P.", seq, 5001, 1461);
    assert_true(h->ti.above_mss);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].above_mss, 3);
    assert_int_equal(c->ep[C].max_payload, 2896);
    assert_int_equal(c->ep[S].above_mss, 0);
}

/* TCP Fast Open: data on the SYN, acknowledged by the SYN/ACK. */
static void test_tfo_data_on_syn(void **state)
{
    struct trk *h = *state;
    mk(h, C, "S", 1000, 0, 100);
    h->p.u.tcp.o.present |= TCPO_TFO;
    feed(h);
    seg(h, S, "S.", 5000, 1101, 0);
    assert_int_equal(h->p.anomalies, 0);
    seg(h, C, ".", 1101, 5001, 0);
    const struct conn *c = cur(h);
    assert_true(c->ep[C].tfo_data);
    assert_int_equal(c->handshake, HS_COMPLETE);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 100);
    assert_int_equal(c->ep[C].retransmits, 0);
    EXPECT_STATES(c, ESTABLISHED, ESTABLISHED);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED));
    EXPECT_ZEEK(c, "ShA", "S1"); /* data on a SYN is not 'D' */
}

/* TFO fallback: the SYN/ACK acknowledges only the SYN (RFC 7413 4.2.2); the client
 * is established all the same and sends the data again. */
static void test_tfo_not_accepted(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 100);
    seg(h, S, "S.", 5000, 1001, 0);
    assert_false(has_anomaly(h, ANOMALY_TCP_SYNACK_WRONG_ACK));
    EXPECT_STATES(cur(h), ESTABLISHED, SYN_RECEIVED);
    seg(h, C, "P.", 1001, 5001, 100);
    assert_true(h->ti.retransmit);
    EXPECT_STATES(cur(h), ESTABLISHED, ESTABLISHED);
    seg(h, S, ".", 5001, 1101, 0);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].retransmits, 1);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 100);
    assert_int_equal(c->handshake, HS_COMPLETE);
}

/* A SYN/ACK whose ack is not within the SYN's sequence space is flagged. */
static void test_synack_wrong_ack(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S.", 5000, 7777, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_SYNACK_WRONG_ACK));
    assert_false(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN)); /* it acknowledges only a SYN */
    EXPECT_STATES(cur(h), SYN_SENT, SYN_RECEIVED);
    assert_int_equal(cur(h)->ep[C].bytes_missed, 0);
}

/* ECN negotiated on the SYNs (ECE+CWR, then ECE). */
static void test_ecn_syns(void **state)
{
    struct trk *h = *state;
    seg(h, C, "SEW", 1000, 0, 0);
    seg(h, S, "S.E", 5000, 1001, 0);
    seg(h, C, ".", 1001, 5001, 0);
    const struct conn *c = cur(h);
    assert_true(c->ep[C].ecn_syn);
    assert_true(c->ep[S].ecn_syn);
    assert_int_equal(c->handshake, HS_COMPLETE);
    EXPECT_STATES(c, ESTABLISHED, ESTABLISHED);
    EXPECT_ZEEK(c, "ShA", "S1");
}

/* Options on the SYNs are remembered per endpoint. */
static void test_syn_options(void **state)
{
    struct trk *h = *state;
    h->mss[C] = 1460;
    h->mss[S] = 1400;
    h->wscale[C] = 7;
    h->wscale[S] = 9;
    handshake(h, 1000, 5000);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].mss, 1460);
    assert_int_equal(c->ep[S].mss, 1400);
    assert_true(c->ep[C].has_wscale);
    assert_int_equal(c->ep[C].wscale, 7);
    assert_int_equal(c->ep[S].wscale, 9);
}

/* Packet counters and the largest payload per endpoint. */
static void test_packet_counters(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, C, "P.", 1011, 5001, 30);
    seg(h, S, "P.", 5001, 1041, 20);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].packets, 4);
    assert_int_equal(c->ep[S].packets, 2);
    assert_int_equal(c->ep[C].max_payload, 30);
    assert_int_equal(c->ep[S].max_payload, 20);
    assert_int_equal(c->first_frame, 1);
    assert_int_equal(c->last_frame, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_wrap_around),
        T(test_retransmitted_syn_and_fin),
        T(test_rtt_from_last_syn_before_synack),
        T(test_keepalive),
        T(test_zero_window_probe),
        T(test_out_of_order_vs_retransmission),
        T(test_out_of_order_partial_fills),
        T(test_dup_acks_fast_retransmit),
        T(test_dup_acks_not_enough),
        T(test_acked_unseen),
        T(test_acked_unseen_midstream),
        T(test_above_mss),
        T(test_tfo_data_on_syn),
        T(test_tfo_not_accepted),
        T(test_synack_wrong_ack),
        T(test_ecn_syns),
        T(test_syn_options),
        T(test_packet_counters),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
