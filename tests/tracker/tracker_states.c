/* tracker_states.c - the RFC 9293 state machine of both endpoints as the tracker infers
 * it: every edge of the state diagram as an observer sees it, with the frame at which
 * each change happens; RST from every state (RFC 5961 acceptability as Linux applies
 * it); simultaneous open and close; mid-stream pickup and the role heuristics; port
 * reuse; handshake and close kinds.
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

/* ---------------------------------------------------------------- open and close */

/* Active open, data, active close by the client, passive close by the server, TIME_WAIT
 * for 2*MSL after the last packet, then CLOSED by the timer. */
static void test_open_close_time_wait(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, C, ".", 1001, 5001, 0);
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, S, ".", 5001, 1101, 0);
    seg(h, S, "P.", 5001, 1101, 200);
    seg(h, C, "F.", 1101, 5201, 0);
    EXPECT_STATES(cur(h), FIN_WAIT_1, CLOSE_WAIT);
    seg(h, S, ".", 5201, 1102, 0);
    seg(h, S, "F.", 5201, 1102, 0);
    int64_t last = h->now;
    seg(h, C, ".", 1102, 5202, 0);
    EXPECT_STATES(cur(h), TIME_WAIT, CLOSED);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(7, C, ESTABLISHED, FIN_WAIT_1), EV(7, S, ESTABLISHED, CLOSE_WAIT),
                  EV(8, C, FIN_WAIT_1, FIN_WAIT_2), EV(9, S, CLOSE_WAIT, LAST_ACK),
                  EV(9, C, FIN_WAIT_2, TIME_WAIT), EV(10, S, LAST_ACK, CLOSED));
    const struct conn *c = cur(h);
    assert_int_equal(c->id, 1);
    assert_int_equal(c->handshake, HS_COMPLETE);
    assert_int_equal(c->close, CLOSE_FIN);
    assert_string_equal(conn_active_closer(c), "client");
    assert_int_equal(c->syn_ns, T0);
    assert_int_equal(c->synack_ns, T0 + 1 * MS);
    assert_int_equal(c->ack_ns, T0 + 2 * MS);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 100);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[S]), 200);
    assert_false(c->midstream);
    EXPECT_ZEEK(c, "ShADadFf", "SF");
    assert_int_equal(h->n_end, 0);

    /* still in TIME_WAIT one nanosecond before 2*MSL */
    h->now = last + 2 * h->o.msl_ns - 1;
    other(h);
    assert_int_equal(h->n_end, 0);
    h->now = last + 2 * h->o.msl_ns;
    other(h);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_CLOSED);
    assert_int_equal(h->n_ev, 11);
    const struct rec_ev *e = &h->ev[10];
    assert_int_equal(e->frame, 10); /* a timer: the connection's last frame */
    assert_int_equal(e->ts_ns, last + 2 * h->o.msl_ns);
    assert_int_equal(e->ep, C);
    assert_int_equal(e->from, TCPS_TIME_WAIT);
    assert_int_equal(e->to, TCPS_CLOSED);
    c = ended(h, 1);
    EXPECT_STATES(c, CLOSED, CLOSED);
    assert_int_equal(c->first_ns, T0);
    assert_int_equal(c->last_ns, last); /* duration ends at the last packet */
    assert_int_equal(c->last_frame, 10);
    struct tcp_tracker_stats st;
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.conns, 1);
    assert_int_equal(st.ended_closed, 1);
    assert_int_equal(st.flow.expired[FLOW_CLOSING], 1);
}

/* The server closes first: it is the active closer. */
static void test_server_closes_first(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, S, "F.", 5001, 1001, 0);
    seg(h, C, ".", 1001, 5002, 0);
    seg(h, C, "F.", 1001, 5002, 0);
    seg(h, S, ".", 5002, 1002, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, S, ESTABLISHED, FIN_WAIT_1), EV(4, C, ESTABLISHED, CLOSE_WAIT),
                  EV(5, S, FIN_WAIT_1, FIN_WAIT_2), EV(6, C, CLOSE_WAIT, LAST_ACK),
                  EV(6, S, FIN_WAIT_2, TIME_WAIT), EV(7, C, LAST_ACK, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_FIN);
    assert_string_equal(conn_active_closer(cur(h)), "server");
    EXPECT_ZEEK(cur(h), "ShAfFa", "SF");
}

/* A FIN is acknowledged only by an ACK that covers its sequence number. */
static void test_fin_needs_covering_ack(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, C, "F.", 1101, 5001, 0);
    seg(h, S, ".", 5001, 1101, 0); /* acks the data, not the FIN */
    EXPECT_STATES(cur(h), FIN_WAIT_1, CLOSE_WAIT);
    seg(h, S, ".", 5001, 1102, 0);
    EXPECT_STATES(cur(h), FIN_WAIT_2, CLOSE_WAIT);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(5, C, ESTABLISHED, FIN_WAIT_1), EV(5, S, ESTABLISHED, CLOSE_WAIT),
                  EV(7, C, FIN_WAIT_1, FIN_WAIT_2));
}

/* A FIN with data sits after the data: acknowledging the data does not cover it. */
static void test_fin_with_data(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "FP.", 1001, 5001, 50);
    EXPECT_STATES(cur(h), FIN_WAIT_1, CLOSE_WAIT);
    seg(h, S, ".", 5001, 1051, 0);
    EXPECT_STATES(cur(h), FIN_WAIT_1, CLOSE_WAIT);
    seg(h, S, ".", 5001, 1052, 0);
    EXPECT_STATES(cur(h), FIN_WAIT_2, CLOSE_WAIT);
    assert_int_equal(tcp_endpoint_bytes(&cur(h)->ep[C]), 50);
}

/* Both FINs cross: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both sides. */
static void test_simultaneous_close(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, "F.", 5001, 1001, 0);
    EXPECT_STATES(cur(h), CLOSING, CLOSING);
    seg(h, C, ".", 1002, 5002, 0);
    int64_t last = h->now;
    seg(h, S, ".", 5002, 1002, 0);
    EXPECT_STATES(cur(h), TIME_WAIT, TIME_WAIT);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, S, CLOSE_WAIT, CLOSING), EV(5, C, FIN_WAIT_1, CLOSING),
                  EV(6, S, CLOSING, TIME_WAIT), EV(7, C, CLOSING, TIME_WAIT));
    assert_int_equal(cur(h)->close, CLOSE_SIMULTANEOUS);
    assert_string_equal(conn_active_closer(cur(h)), "both");
    EXPECT_ZEEK(cur(h), "ShAFfa", "SF");
    h->now = last + 2 * h->o.msl_ns;
    other(h);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, S, CLOSE_WAIT, CLOSING), EV(5, C, FIN_WAIT_1, CLOSING),
                  EV(6, S, CLOSING, TIME_WAIT), EV(7, C, CLOSING, TIME_WAIT),
                  EV(7, C, TIME_WAIT, CLOSED), EV(7, S, TIME_WAIT, CLOSED));
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_CLOSED);
}

/* RFC 9293 figure 5 note 2: FIN_WAIT_1 straight to TIME_WAIT on FIN + ACK of its FIN. */
static void test_fin_wait_1_to_time_wait(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, "F.", 5001, 1002, 0);
    seg(h, C, ".", 1002, 5002, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, S, CLOSE_WAIT, LAST_ACK), EV(5, C, FIN_WAIT_1, TIME_WAIT),
                  EV(6, S, LAST_ACK, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_FIN);
    assert_string_equal(conn_active_closer(cur(h)), "client");
}

/* Half-close: the server keeps sending after the client's FIN. */
static void test_half_close(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0);
    seg(h, S, "P.", 5001, 1002, 300);
    seg(h, C, ".", 1002, 5301, 0);
    seg(h, S, "P.", 5301, 1002, 200);
    seg(h, C, ".", 1002, 5501, 0);
    EXPECT_STATES(cur(h), FIN_WAIT_2, CLOSE_WAIT);
    seg(h, S, "F.", 5501, 1002, 0);
    seg(h, C, ".", 1002, 5502, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, C, FIN_WAIT_1, FIN_WAIT_2), EV(10, S, CLOSE_WAIT, LAST_ACK),
                  EV(10, C, FIN_WAIT_2, TIME_WAIT), EV(11, S, LAST_ACK, CLOSED));
    const struct conn *c = cur(h);
    assert_int_equal(c->close, CLOSE_HALF);
    assert_string_equal(conn_active_closer(c), "client");
    assert_int_equal(c->ep[S].data_after_peer_fin, 500);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[S]), 500);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 0);
    EXPECT_ZEEK(c, "ShAFadf", "SF");
}

/* Simultaneous open: SYN crosses SYN; each side goes SYN_SENT -> SYN_RECEIVED ->
 * ESTABLISHED (RFC 9293 section 3.5, figure 7). */
static void test_simultaneous_open(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S", 5000, 0, 0);
    EXPECT_STATES(cur(h), SYN_RECEIVED, SYN_RECEIVED);
    seg(h, C, "S.", 1000, 5001, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    EXPECT_STATES(cur(h), ESTABLISHED, ESTABLISHED);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, CLOSED, SYN_SENT),
                  EV(2, S, SYN_SENT, SYN_RECEIVED), EV(2, C, SYN_SENT, SYN_RECEIVED),
                  EV(3, S, SYN_RECEIVED, ESTABLISHED), EV(4, C, SYN_RECEIVED, ESTABLISHED));
    const struct conn *c = cur(h);
    assert_int_equal(h->n_end, 0);
    assert_int_equal(c->id, 1);
    assert_true(c->simultaneous_open);
    assert_int_equal(c->handshake, HS_SIMULTANEOUS);
    assert_int_equal(c->ep[C].retransmits, 0);
    assert_int_equal(c->ep[S].retransmits, 0);
    /* Zeek: a responder SYN makes both sides ESTABLISHED (UpdateInactiveState) */
    EXPECT_ZEEK(c, "Ss", "S1"); /* S and H share one mask and seq */
    /* and it closes normally */
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, "F.", 5001, 1002, 0);
    seg(h, C, ".", 1002, 5002, 0);
    EXPECT_STATES(cur(h), TIME_WAIT, CLOSED);
}

/* The other order: the server's SYN/ACK comes before the client's. */
static void test_simultaneous_open_other_order(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S", 5000, 0, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, C, "S.", 1000, 5001, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, CLOSED, SYN_SENT),
                  EV(2, S, SYN_SENT, SYN_RECEIVED), EV(2, C, SYN_SENT, SYN_RECEIVED),
                  EV(3, C, SYN_RECEIVED, ESTABLISHED), EV(4, S, SYN_RECEIVED, ESTABLISHED));
    assert_int_equal(cur(h)->handshake, HS_SIMULTANEOUS);
}

/* ---------------------------------------------------------------- RST from every state */

/* SYN_SENT: a RST whose ACK acknowledges the SYN refuses the connection. */
static void test_rst_syn_sent_refused(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "R", 0, 0, 0); /* no ACK: not acceptable in SYN_SENT */
    EXPECT_STATES(cur(h), SYN_SENT, UNKNOWN);
    seg(h, S, "R.", 0, 1000, 0); /* ACK does not cover the SYN */
    EXPECT_STATES(cur(h), SYN_SENT, UNKNOWN);
    seg(h, S, "R.", 0, 1001, 0);
    EXPECT_STATES(cur(h), CLOSED, CLOSED);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(4, S, UNKNOWN, CLOSED),
                  EV(4, C, SYN_SENT, CLOSED));
    const struct conn *c = cur(h);
    assert_int_equal(c->handshake, HS_REFUSED);
    assert_int_equal(c->close, CLOSE_RST_SERVER);
    assert_string_equal(conn_active_closer(c), "server");
    assert_int_equal(h->n_end, 0); /* reported after this packet */
    trk_finish(h);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_CLOSED);
    EXPECT_ZEEK(ended(h, 1), "Sr", "REJ");
}

/* SYN_RECEIVED after a passive open goes back to LISTEN on RST (RFC 9293 3.10.7.4). */
static void test_rst_syn_received(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, C, "R", 1001, 0, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, C, ESTABLISHED, CLOSED),
                  EV(3, S, SYN_RECEIVED, LISTEN));
    const struct conn *c = cur(h);
    assert_int_equal(c->handshake, HS_PARTIAL);
    assert_int_equal(c->ack_ns, 0);
    assert_int_equal(c->close, CLOSE_RST_CLIENT);
    other(h);
    assert_int_equal(h->n_end, 1); /* over: nothing of it is left but a listener */
    assert_int_equal(h->why[0], CONN_END_CLOSED);
    EXPECT_ZEEK(ended(h, 1), "ShR", "RSTO");
}

/* SYN_RECEIVED of a simultaneous open (an active open) goes to CLOSED on RST. */
static void test_rst_syn_received_active(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S", 5000, 0, 0);
    seg(h, C, "R", 1001, 0, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, CLOSED, SYN_SENT),
                  EV(2, S, SYN_SENT, SYN_RECEIVED), EV(2, C, SYN_SENT, SYN_RECEIVED),
                  EV(3, C, SYN_RECEIVED, CLOSED), EV(3, S, SYN_RECEIVED, CLOSED));
}

/* The server resets its own half-open connection. */
static void test_rst_sent_from_syn_received(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, S, "R", 5001, 0, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, CLOSED),
                  EV(3, C, ESTABLISHED, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_RST_SERVER);
    EXPECT_ZEEK(cur(h), "Shr", "RSTR");
}

static void test_rst_established(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, "R.", 5001, 1011, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(5, S, ESTABLISHED, CLOSED), EV(5, C, ESTABLISHED, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_RST_SERVER);
    assert_int_equal(cur(h)->rst_by, S);
    EXPECT_ZEEK(cur(h), "ShADr", "RSTR");
}

static void test_rst_established_by_client(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "R.", 1001, 5001, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, CLOSED), EV(4, S, ESTABLISHED, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_RST_CLIENT);
    assert_string_equal(conn_active_closer(cur(h)), "client");
    EXPECT_ZEEK(cur(h), "ShAR", "RSTO");
}

/* FIN_WAIT_1 receives a RST (sent from CLOSE_WAIT). */
static void test_rst_fin_wait_1(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, "R.", 5001, 1002, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, S, CLOSE_WAIT, CLOSED), EV(5, C, FIN_WAIT_1, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_RST_SERVER);
    EXPECT_ZEEK(cur(h), "ShAFr", "RSTR");
}

/* FIN_WAIT_2 receives a RST. */
static void test_rst_fin_wait_2(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0);
    seg(h, S, "R.", 5001, 1002, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, C, FIN_WAIT_1, FIN_WAIT_2), EV(6, S, CLOSE_WAIT, CLOSED),
                  EV(6, C, FIN_WAIT_2, CLOSED));
}

/* CLOSE_WAIT receives a RST (sent from FIN_WAIT_2). */
static void test_rst_close_wait(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0);
    seg(h, C, "R.", 1002, 5001, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, C, FIN_WAIT_1, FIN_WAIT_2), EV(6, C, FIN_WAIT_2, CLOSED),
                  EV(6, S, CLOSE_WAIT, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_RST_CLIENT);
    EXPECT_ZEEK(cur(h), "ShAFaR", "RSTO");
}

/* CLOSING receives a RST; both FINs were seen, so the close stays a FIN close. */
static void test_rst_closing(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, "F.", 5001, 1001, 0);
    seg(h, C, "R.", 1002, 5002, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, S, CLOSE_WAIT, CLOSING), EV(5, C, FIN_WAIT_1, CLOSING),
                  EV(6, C, CLOSING, CLOSED), EV(6, S, CLOSING, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_SIMULTANEOUS);
    assert_int_equal(cur(h)->rst_by, -1);
    EXPECT_ZEEK(cur(h), "ShAFfR", "SF");
}

/* LAST_ACK receives a RST from TIME_WAIT: a FIN close followed by a RST stays "fin". */
static void test_rst_last_ack(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0);
    seg(h, S, "F.", 5001, 1002, 0);
    seg(h, C, "R", 1002, 0, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, C, FIN_WAIT_1, FIN_WAIT_2), EV(6, S, CLOSE_WAIT, LAST_ACK),
                  EV(6, C, FIN_WAIT_2, TIME_WAIT), EV(7, C, TIME_WAIT, CLOSED),
                  EV(7, S, LAST_ACK, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_FIN);
    assert_string_equal(conn_active_closer(cur(h)), "client");
    EXPECT_ZEEK(cur(h), "ShAFafR", "SF");
    other(h);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_CLOSED);
}

/* TIME_WAIT receives a RST: Linux (tcp_rfc1337=0) ends TIME_WAIT. */
static void test_rst_time_wait(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0);
    seg(h, S, "F.", 5001, 1002, 0);
    seg(h, C, ".", 1002, 5002, 0);
    seg(h, S, "R", 5002, 0, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(4, C, ESTABLISHED, FIN_WAIT_1), EV(4, S, ESTABLISHED, CLOSE_WAIT),
                  EV(5, C, FIN_WAIT_1, FIN_WAIT_2), EV(6, S, CLOSE_WAIT, LAST_ACK),
                  EV(6, C, FIN_WAIT_2, TIME_WAIT), EV(7, S, LAST_ACK, CLOSED),
                  EV(8, C, TIME_WAIT, CLOSED));
    assert_int_equal(cur(h)->close, CLOSE_FIN);
    EXPECT_ZEEK(cur(h), "ShAFafr", "SF");
}

/* RFC 5961: a RST in the window but not at rcv.nxt is flagged and ignored, one outside
 * the window likewise; only the exact one ends the connection. */
static void test_rst_window_checks(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, S, "R.", 5001 + 100, 1001, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_IN_WINDOW));
    assert_false(has_anomaly(h, ANOMALY_TCP_RST_OUT_OF_WINDOW));
    seg(h, S, "R.", 5001 + 65535, 1001, 0); /* first sequence number past the window */
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_OUT_OF_WINDOW));
    assert_false(has_anomaly(h, ANOMALY_TCP_RST_IN_WINDOW));
    seg(h, S, "R.", 5001 - 1, 1001, 0); /* behind rcv.nxt */
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_OUT_OF_WINDOW));
    seg(h, C, "R", 1001 + 65534, 0, 0); /* the client's RST: last byte of the window */
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_IN_WINDOW));
    EXPECT_STATES(cur(h), ESTABLISHED, ESTABLISHED);
    assert_int_equal(cur(h)->close, CLOSE_NONE);
    seg(h, C, "P.", 1001, 5001, 10); /* the connection still works */
    seg(h, S, "R.", 5001, 1011, 0);
    assert_int_equal(h->p.anomalies, 0);
    EXPECT_STATES(cur(h), CLOSED, CLOSED);
    assert_int_equal(cur(h)->close, CLOSE_RST_SERVER);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, S, LISTEN, SYN_RECEIVED),
                  EV(2, C, SYN_SENT, ESTABLISHED), EV(3, S, SYN_RECEIVED, ESTABLISHED),
                  EV(9, S, ESTABLISHED, CLOSED), EV(9, C, ESTABLISHED, CLOSED));
}

/* The window that decides "in window" is scaled when both SYNs carried wscale. */
static void test_rst_window_scaled(void **state)
{
    struct trk *h = *state;
    h->wscale[C] = h->wscale[S] = 7;
    handshake(h, 1000, 5000);
    seg(h, S, "R.", 5001 + 100000, 1001, 0); /* 100000 < 65535 << 7 */
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_IN_WINDOW));
    seg(h, S, "R.", 5001 + (65535u << 7), 1001, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_OUT_OF_WINDOW));
    EXPECT_STATES(cur(h), ESTABLISHED, ESTABLISHED);
}

/* A SYN then a RST from the same side, no reply: RSTOS0. */
static void test_rst_after_own_syn(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, C, "R", 1001, 0, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, CLOSED, SYN_SENT), EV(2, C, SYN_SENT, CLOSED));
    EXPECT_STATES(cur(h), CLOSED, UNKNOWN);
    assert_int_equal(cur(h)->handshake, HS_NO_REPLY);
    assert_int_equal(cur(h)->close, CLOSE_RST_CLIENT);
    trk_finish(h);
    assert_int_equal(h->why[0], CONN_END_CLOSED);
    EXPECT_ZEEK(ended(h, 1), "SR", "RSTOS0");
}

/* ---------------------------------------------------------------- mid-stream pickup */

static void test_midstream_client_first(void **state)
{
    struct trk *h = *state;
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, S, ".", 5001, 1101, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, UNKNOWN, ESTABLISHED), EV(2, S, UNKNOWN, ESTABLISHED));
    const struct conn *c = cur(h);
    assert_true(c->midstream);
    assert_false(c->flipped);
    assert_int_equal(c->ep[C].port, 40000);
    assert_int_equal(c->ep[S].port, 80);
    assert_int_equal(c->handshake, HS_NOT_SEEN);
    assert_int_equal(tcp_endpoint_bytes(&c->ep[C]), 100);
    EXPECT_ZEEK(c, "Da", "OTH");
    seg(h, C, "F.", 1101, 5001, 0);
    seg(h, S, "F.", 5001, 1102, 0);
    seg(h, C, ".", 1102, 5002, 0);
    EXPECT_STATES(cur(h), TIME_WAIT, CLOSED);
    EXPECT_ZEEK(cur(h), "DaFfA", "SF");
}

/* First packet from the server's port (80 -> 40000): the server sent it; Zeek flips. */
static void test_midstream_server_first(void **state)
{
    struct trk *h = *state;
    seg(h, S, "P.", 5001, 1001, 100);
    EXPECT_STATES(cur(h), UNKNOWN, ESTABLISHED);
    seg(h, C, ".", 1001, 5101, 0);
    EXPECT_EVENTS(h, 1, EV(1, S, UNKNOWN, ESTABLISHED), EV(2, C, UNKNOWN, ESTABLISHED));
    const struct conn *c = cur(h);
    assert_true(c->midstream);
    assert_true(c->flipped);
    assert_int_equal(c->ep[C].port, 40000);
    assert_int_equal(c->ep[S].port, 80);
    EXPECT_ZEEK(c, "^dA", "OTH");
}

/* No ephemeral port: a well-known service port is the server's. */
static void test_midstream_service_port(void **state)
{
    struct trk *h = *state;
    h->port[C] = 1024;
    h->port[S] = 22;
    seg(h, S, "P.", 5001, 1001, 100);
    assert_int_equal(cur(h)->ep[S].port, 22);
    assert_int_equal(cur(h)->ep[C].port, 1024);
    assert_true(cur(h)->flipped);
    h->port[C] = 1025;
    seg(h, C, "P.", 1001, 5001, 100);
    assert_int_equal(cur(h)->id, 2);
    assert_int_equal(cur(h)->ep[S].port, 22);
    assert_int_equal(cur(h)->ep[C].port, 1025);
    assert_false(cur(h)->flipped);
    EXPECT_ZEEK(cur(h), "D", "OTH");
}

/* Neither ephemeral nor a service port, or both ephemeral: the lower port is the server's. */
static void test_midstream_lower_port(void **state)
{
    struct trk *h = *state;
    h->port[C] = 6000;
    h->port[S] = 5000;
    seg(h, C, "P.", 1001, 5001, 100);
    assert_int_equal(cur(h)->ep[S].port, 5000);
    assert_false(cur(h)->flipped);
    h->port[C] = 6001;
    seg(h, S, ".", 5001, 1001, 0);
    assert_int_equal(cur(h)->ep[S].port, 5000);
    assert_int_equal(cur(h)->ep[C].port, 6001);
    assert_true(cur(h)->flipped);
    EXPECT_ZEEK(cur(h), "^a", "OTH");
    h->port[C] = 50000;
    h->port[S] = 40000;
    seg(h, C, "P.", 1001, 5001, 100);
    assert_int_equal(cur(h)->ep[S].port, 40000);
    assert_int_equal(cur(h)->ep[C].port, 50000);
    assert_false(cur(h)->flipped);
}

/* A mid-stream FIN: the sender was ESTABLISHED, now FIN_WAIT_1; the peer, once seen,
 * is in CLOSE_WAIT. */
static void test_midstream_fin(void **state)
{
    struct trk *h = *state;
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0);
    EXPECT_EVENTS(h, 1, EV(1, C, UNKNOWN, ESTABLISHED), EV(1, C, ESTABLISHED, FIN_WAIT_1),
                  EV(2, S, UNKNOWN, ESTABLISHED), EV(2, S, ESTABLISHED, CLOSE_WAIT),
                  EV(2, C, FIN_WAIT_1, FIN_WAIT_2));
}

/* ---------------------------------------------------------------- port reuse */

static void close_normally(struct trk *h, uint32_t ci, uint32_t si)
{
    seg(h, C, "F.", ci, si, 0);
    seg(h, S, "F.", si, ci + 1, 0);
    seg(h, C, ".", ci + 1, si + 1, 0);
}

/* A SYN with another ISN while the old connection is in TIME_WAIT ends it (reused). */
static void test_reuse_in_time_wait(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    close_normally(h, 1001, 5001);
    EXPECT_STATES(cur(h), TIME_WAIT, CLOSED);
    seg(h, C, "S", 90000, 0, 0);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_REUSED);
    assert_true(h->ends[0].reused);
    EXPECT_STATES(&h->ends[0], TIME_WAIT, CLOSED);
    EXPECT_ZEEK(&h->ends[0], "ShAFf", "SF");
    assert_int_equal(cur(h)->id, 2);
    assert_false(cur(h)->reused);
    seg(h, S, "S.", 7000, 90001, 0);
    seg(h, C, ".", 90001, 7001, 0);
    EXPECT_EVENTS(h, 2, EV(7, C, CLOSED, SYN_SENT), EV(8, S, LISTEN, SYN_RECEIVED),
                  EV(8, C, SYN_SENT, ESTABLISHED), EV(9, S, SYN_RECEIVED, ESTABLISHED));
    EXPECT_ZEEK(cur(h), "ShA", "S1");
    struct tcp_tracker_stats st;
    tcp_tracker_stats(h->t, &st);
    assert_int_equal(st.conns, 2);
    assert_int_equal(st.ended_reused, 1);
}

/* ... and while it is still open (Zeek: the same rule, active_connection_reuse). */
static void test_reuse_while_open(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, C, "S", 2000000, 0, 0);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_REUSED);
    assert_true(h->ends[0].reused);
    EXPECT_STATES(&h->ends[0], ESTABLISHED, ESTABLISHED);
    assert_int_equal(cur(h)->id, 2);
    EXPECT_STATES(cur(h), SYN_SENT, UNKNOWN);
    assert_int_equal(cur(h)->ep[C].isn, 2000000);
}

/* A retransmitted SYN (same ISN) is not reuse, it is a retransmission. */
static void test_syn_retransmit_not_reuse(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, C, "S", 1000, 0, 0);
    assert_true(h->ti.retransmit);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, C, ".", 1001, 5001, 0);
    seg(h, C, "S", 1000, 0, 0); /* a late duplicate */
    assert_int_equal(h->n_end, 0);
    assert_int_equal(cur(h)->id, 1);
    assert_int_equal(cur(h)->ep[C].retransmits, 2);
    EXPECT_STATES(cur(h), ESTABLISHED, ESTABLISHED);
    EXPECT_ZEEK(cur(h), "ShA", "S1");
}

/* A new SYN from the old server's side opens a new connection with swapped roles. */
static void test_reuse_reverse_direction(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    close_normally(h, 1001, 5001);
    seg(h, S, "S", 9000, 0, 0);
    assert_int_equal(h->why[0], CONN_END_REUSED);
    assert_int_equal(cur(h)->id, 2);
    assert_int_equal(cur(h)->ep[C].port, 80); /* the SYN's sender is the new client */
}

/* A connection seen only from the server: a SYN/ACK with another ISN is reuse (Zeek
 * IsReuse); the same one again is a retransmission. */
static void test_reuse_synack_half_seen(void **state)
{
    struct trk *h = *state;
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    assert_true(h->ti.retransmit);
    assert_int_equal(h->n_end, 0);
    seg(h, S, "S.", 8000, 3001, 0);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(h->why[0], CONN_END_REUSED);
    assert_true(h->ends[0].reused);
    assert_int_equal(cur(h)->id, 2);
    assert_int_equal(cur(h)->ep[S].isn, 8000);
    /* once the client was seen, a SYN/ACK does not start a new connection */
    seg(h, C, ".", 3001, 8001, 0);
    seg(h, S, "S.", 9000, 3001, 0);
    assert_int_equal(h->n_end, 1);
    assert_int_equal(cur(h)->id, 2);
}

/* ---------------------------------------------------------------- IPv6 */

static void test_ipv6(void **state)
{
    struct trk *h = *state;
    h->family = 6;
    memset(h->addr, 0, sizeof h->addr);
    h->addr[C][0] = 0x20;
    h->addr[C][1] = 0x01;
    h->addr[C][15] = 9;
    h->addr[S][0] = 0x20;
    h->addr[S][1] = 0x01;
    h->addr[S][15] = 2; /* the server's address sorts first in the flow key */
    handshake(h, 1000, 5000);
    close_normally(h, 1001, 5001);
    const struct conn *c = cur(h);
    assert_int_equal(c->family, 6);
    assert_int_equal(c->ep[C].addr[15], 9);
    assert_int_equal(c->ep[S].addr[15], 2);
    EXPECT_STATES(c, TIME_WAIT, CLOSED);
    assert_int_equal(c->handshake, HS_COMPLETE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_open_close_time_wait),
        T(test_server_closes_first),
        T(test_fin_needs_covering_ack),
        T(test_fin_with_data),
        T(test_simultaneous_close),
        T(test_fin_wait_1_to_time_wait),
        T(test_half_close),
        T(test_simultaneous_open),
        T(test_simultaneous_open_other_order),
        T(test_rst_syn_sent_refused),
        T(test_rst_syn_received),
        T(test_rst_syn_received_active),
        T(test_rst_sent_from_syn_received),
        T(test_rst_established),
        T(test_rst_established_by_client),
        T(test_rst_fin_wait_1),
        T(test_rst_fin_wait_2),
        T(test_rst_close_wait),
        T(test_rst_closing),
        T(test_rst_last_ack),
        T(test_rst_time_wait),
        T(test_rst_window_checks),
        T(test_rst_window_scaled),
        T(test_rst_after_own_syn),
        T(test_midstream_client_first),
        T(test_midstream_server_first),
        T(test_midstream_service_port),
        T(test_midstream_lower_port),
        T(test_midstream_fin),
        T(test_reuse_in_time_wait),
        T(test_reuse_while_open),
        T(test_syn_retransmit_not_reuse),
        T(test_reuse_reverse_direction),
        T(test_reuse_synack_half_seen),
        T(test_ipv6),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
