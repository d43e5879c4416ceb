/* tracker_zeek.c - Zeek compatibility of connection records: every conn_state value and
 * every history rule of ../shared/ZEEK_CONN_STATE.md, with hand-written expectations
 * (the examples of that page where they apply).  Zeek run with -C: no 'C', no 'X'.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conn_zeek.h"
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

/* The connection as it is reported: ended or still open at the end of input. */
static const struct conn *reported(struct trk *h, uint64_t id)
{
    trk_finish(h);
    const struct conn *c = ended(h, id);
    assert_non_null(c);
    return c;
}

/* ---------------------------------------------------------------- conn_state values */

static void test_s0(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, C, "S", 1000, 0, 0); /* repeated SYNs keep it S0 */
    EXPECT_ZEEK(reported(h, 1), "S", "S0");
}

/* "Eccentric" stacks ACK a SYN before replying: the responder stays inactive. */
static void test_s0_eccentric_ack(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, ".", 5000, 1001, 0);
    EXPECT_ZEEK(reported(h, 1), "Sa", "S0");
}

static void test_s1(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, C, ".", 1011, 5021, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADad", "S1");
}

/* The worked example of doc/reference/logs/conn.rst. */
static void test_sf(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, C, "F.", 1011, 5021, 0);
    seg(h, S, "F.", 5021, 1012, 0);
    seg(h, C, ".", 1012, 5022, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADadFf", "SF");
}

static void test_rej(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "R.", 0, 1001, 0);
    EXPECT_ZEEK(reported(h, 1), "Sr", "REJ");
}

static void test_s2(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, C, "F.", 1011, 5021, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADadF", "S2");
}

static void test_s3(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, S, "F.", 5021, 1011, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADadf", "S3");
}

static void test_rsto(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, C, "R.", 1011, 5021, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADadR", "RSTO");
}

static void test_rstr(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, S, "R.", 5021, 1011, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADadr", "RSTR");
}

static void test_rstos0(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, C, "R", 1001, 0, 0);
    EXPECT_ZEEK(reported(h, 1), "SR", "RSTOS0");
}

static void test_rstos0_after_eccentric_ack(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, ".", 5000, 1001, 0);
    seg(h, C, "R", 1001, 0, 0);
    EXPECT_ZEEK(reported(h, 1), "SaR", "RSTOS0");
}

/* SYN, FIN, RST with only an eccentric ACK back: the 'F' breaks the RSTOS0 pattern. */
static void test_oth_syn_fin_rst(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, ".", 5000, 1001, 0);
    seg(h, C, "F", 1001, 0, 0);
    seg(h, C, "R", 1002, 0, 0);
    EXPECT_ZEEK(reported(h, 1), "SaFR", "OTH");
}

/* modbus-and-non-modbus-502: data from the originator, RST from the responder. */
static void test_rstrh(void **state)
{
    struct trk *h = *state;
    h->port[S] = 502;
    seg(h, C, "P.", 1001, 5001, 12);
    seg(h, S, "R.", 5001, 1013, 0);
    EXPECT_ZEEK(reported(h, 1), "Dr", "RSTRH");
}

/* SYN/ACK from the service port, then RST: "the responder sent a SYN-ACK and then a RST". */
static void test_rstrh_synack(void **state)
{
    struct trk *h = *state;
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, S, "R", 5001, 0, 0);
    EXPECT_ZEEK(reported(h, 1), "^hr", "RSTRH");
}

/* ssh-half-duplex-client: only the originator's side was captured. */
static void test_sh(void **state)
{
    struct trk *h = *state;
    h->port[S] = 22;
    seg(h, C, "P.", 1001, 5001, 40);
    seg(h, C, ".", 1041, 5101, 0);
    seg(h, C, "F.", 1041, 5101, 0);
    EXPECT_ZEEK(reported(h, 1), "DAF", "SH");
}

/* The classic SH: a SYN, then a FIN, no SYN-ACK. */
static void test_sh_syn_fin(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, C, "F", 1001, 0, 0);
    EXPECT_ZEEK(reported(h, 1), "SF", "SH");
}

/* ssh-half-duplex-server: only the responder's side, from its SYN-ACK on.  Zeek flips
 * at creation (the source port is a server port), so '^' comes first. */
static void test_shr(void **state)
{
    struct trk *h = *state;
    h->port[S] = 22;
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, S, "P.", 5001, 1001, 40);
    seg(h, S, ".", 5041, 1001, 0);
    seg(h, S, "F.", 5041, 1001, 0);
    EXPECT_ZEEK(reported(h, 1), "^hdaf", "SHR");
}

static void test_oth_midstream(void **state)
{
    struct trk *h = *state;
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, C, ".", 1011, 5021, 0);
    EXPECT_ZEEK(reported(h, 1), "DdA", "OTH");
}

static void test_oth_lone_rst(void **state)
{
    struct trk *h = *state;
    seg(h, C, "R", 1001, 0, 0);
    EXPECT_ZEEK(reported(h, 1), "R", "OTH");
}

/* tcp-missing-syn: no SYN, the SYN-ACK from port 80 first; both FINs make it SF. */
static void test_sf_missing_syn(void **state)
{
    struct trk *h = *state;
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, C, ".", 1001, 5001, 0);
    seg(h, C, "P.", 1001, 5001, 100);
    seg(h, S, "P.", 5001, 1101, 200);
    seg(h, C, "F.", 1101, 5201, 0);
    seg(h, S, ".", 5201, 1102, 0);
    seg(h, S, "F.", 5201, 1102, 0);
    const struct conn *c = reported(h, 1);
    EXPECT_ZEEK(c, "^hADdFaf", "SF");
    assert_int_equal(c->ep[S].port, 80);
    assert_int_equal(c->handshake, HS_PARTIAL);
}

/* A purely mid-stream connection whose sides both send FIN is SF (modbus conn-first). */
static void test_sf_midstream(void **state)
{
    struct trk *h = *state;
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0);
    seg(h, S, "F.", 5001, 1002, 0);
    seg(h, C, ".", 1002, 5002, 0);
    EXPECT_ZEEK(reported(h, 1), "FafA", "SF");
}

/* ---------------------------------------------------------------- history rules */

/* A, D once per direction however many pure ACKs and data segments. */
static void test_a_d_once_per_direction(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    for (uint32_t i = 0; i < 5; i++) {
        seg(h, C, "P.", 1001 + 10 * i, 5001 + 10 * i, 10);
        seg(h, S, "P.", 5001 + 10 * i, 1011 + 10 * i, 10);
        seg(h, C, ".", 1011 + 10 * i, 5011 + 10 * i, 0);
        seg(h, S, ".", 5011 + 10 * i, 1011 + 10 * i, 0);
    }
    EXPECT_ZEEK(reported(h, 1), "ShADda", "S1");
}

/* I (FIN+RST) and Q (SYN+FIN, SYN+RST) once per direction; they replace S, F, R. */
static void test_i_q_once(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "FR.", 1001 + 200000, 5001, 0); /* out of the window: ignored by TCP */
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_OUT_OF_WINDOW));
    seg(h, C, "FR.", 1001 + 300000, 5001, 0);
    EXPECT_ZEEK(cur(h), "ShAI", "RSTO");
    h->port[C] = 40001;
    seg(h, C, "SF", 7000, 0, 0);
    seg(h, C, "SF", 7100, 0, 0);
    EXPECT_ZEEK(cur(h), "Q", "SH");
    seg(h, S, "SR.", 5000, 7001, 0); /* SYN+RST is 'Q' too */
    EXPECT_ZEEK(cur(h), "Qq", "RSTR");
    h->port[C] = 40002;
    seg(h, C, "SFR", 8000, 0, 0);
    EXPECT_ZEEK(cur(h), "I", "OTH");
}

/* A retransmitted SYN/ACK adds no 'h'. */
static void test_synack_repeat_same_seq(void **state)
{
    struct trk *h = *state;
    seg(h, C, "S", 1000, 0, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, C, ".", 1001, 5001, 0);
    EXPECT_ZEEK(reported(h, 1), "ShA", "S1");
}

/* F repeats only at a new sequence number, compared at seq + payload length. */
static void test_fin_repeat_rule(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "FP.", 1001, 5001, 10); /* FIN with data: compared at 1011 */
    seg(h, C, "F.", 1011, 5001, 0);   /* bare FIN at 1011: the same */
    EXPECT_ZEEK(cur(h), "ShAF", "S2");
    seg(h, C, "F.", 1001, 5001, 10); /* the first again: no 'F', but its data is a 'T' */
    EXPECT_ZEEK(cur(h), "ShAFT", "S2");
    seg(h, C, "F.", 1021, 5001, 0); /* a FIN at another sequence number */
    EXPECT_ZEEK(cur(h), "ShAFTF", "S2");
}

/* R repeats only at a new sequence number. */
static void test_rst_repeat_rule(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "R", 1001 + 100000, 0, 0); /* out of window: TCP ignores all of them */
    seg(h, C, "R", 1001 + 100000, 0, 0);
    seg(h, C, "R", 1001 + 200000, 0, 0);
    EXPECT_STATES(cur(h), ESTABLISHED, ESTABLISHED);
    EXPECT_ZEEK(reported(h, 1), "ShARR", "RSTO");
}

/* T is logarithmic: at 1, 10 and 100 retransmissions. */
static void test_t_logarithmic(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 100);
    for (int i = 1; i <= 100; i++) {
        seg(h, C, "P.", 1001, 5001, 100);
        if (i == 9)
            EXPECT_ZEEK(cur(h), "ShADT", "S1");
        if (i == 10)
            EXPECT_ZEEK(cur(h), "ShADTT", "S1");
        if (i == 99)
            EXPECT_ZEEK(cur(h), "ShADTT", "S1");
    }
    assert_int_equal(cur(h)->ep[C].retransmits, 100);
    EXPECT_ZEEK(reported(h, 1), "ShADTTT", "S1");
}

/* W per direction, logarithmic; not after the peer's FIN. */
static void test_w_logarithmic(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    h->win[S] = 0;
    for (int i = 0; i < 10; i++)
        seg(h, S, ".", 5001, 1001, 0);
    EXPECT_ZEEK(cur(h), "ShAaww", "S1");
    assert_int_equal(cur(h)->ep[S].zero_windows, 10);
    seg(h, C, "F.", 1001, 5001, 0);
    seg(h, S, ".", 5001, 1002, 0); /* zero window after the client's FIN: no W count */
    assert_int_equal(cur(h)->hist_cnt[S][ZEEK_CNT_W], 10);
    EXPECT_ZEEK(cur(h), "ShAawwF", "S2");
}

/* G is logarithmic too: ten ACKs of unseen data give "GG". */
static void test_g_logarithmic(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    for (uint32_t i = 0; i < 10; i++) {
        seg(h, C, "P.", 1001 + 200 * i + 100, 5001, 100);
        seg(h, S, ".", 5001, 1001 + 200 * i + 200, 0);
        assert_true(has_anomaly(h, ANOMALY_TCP_ACKED_UNSEEN));
    }
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[C].bytes_missed, 1000);
    EXPECT_ZEEK(c, "ShADaGG", "S1");
}

/* '^' for a SYN/ACK-first connection from a port the heuristics do not make the
 * server's: Zeek records "H" and rewrites it to "^h" when the other side answers with
 * an ACK; a retransmitted SYN/ACK in between changes nothing. */
static void test_flip_on_answer(void **state)
{
    struct trk *h = *state;
    h->port[S] = 50000;
    h->port[C] = 40000;
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, S, "S.", 5000, 1001, 0);
    seg(h, C, ".", 1001, 5001, 0);
    const struct conn *c = cur(h);
    assert_int_equal(c->ep[S].port, 50000); /* the SYN/ACK's sender is the server */
    assert_true(c->flipped);
    /* Zeek: the SYN/ACK's sender, originator when it sent it, is SYN_ACK_SENT; the
     * answering side is PARTIAL after the flip */
    EXPECT_ZEEK(c, "^hA", "OTH");
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, "P.", 5001, 1011, 10);
    seg(h, C, "F.", 1011, 5011, 0);
    seg(h, S, "F.", 5011, 1012, 0);
    EXPECT_ZEEK(reported(h, 1), "^hADdFf", "SF");
}

/* '^' on a mid-stream first packet from the server's port. */
static void test_flip_midstream(void **state)
{
    struct trk *h = *state;
    seg(h, S, "P.", 5001, 1001, 100);
    seg(h, C, ".", 1001, 5101, 0);
    seg(h, C, "P.", 1001, 5101, 10);
    EXPECT_ZEEK(reported(h, 1), "^dAD", "OTH");
}

/* imap-starttls: a RST after both FINs leaves SF. */
static void test_rst_after_both_fins(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, S, "P.", 5001, 1001, 20);
    seg(h, C, "P.", 1001, 5021, 10);
    seg(h, S, ".", 5021, 1011, 0);
    seg(h, S, "F.", 5021, 1011, 0);
    seg(h, C, "F.", 1011, 5022, 0);
    seg(h, S, "R", 5022, 0, 0);
    const struct conn *c = reported(h, 1);
    EXPECT_ZEEK(c, "ShAdDafFr", "SF");
    assert_int_equal(c->close, CLOSE_FIN);
    assert_string_equal(conn_active_closer(c), "server");
}

/* xmpp-starttls: the same with the originator closing second. */
static void test_rst_after_both_fins_xmpp(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, S, "F.", 5021, 1011, 0);
    seg(h, C, "F.", 1011, 5022, 0);
    seg(h, S, "R", 5022, 0, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADadfFr", "SF");
}

/* A FIN then a RST from one side, then the peer's FIN: a normal close for Zeek.  (The
 * RST is off by a little, so TCP ignores it and the peer's FIN belongs to this
 * connection.) */
static void test_fin_rst_then_peer_fin(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    seg(h, C, "P.", 1001, 5001, 10);
    seg(h, S, ".", 5001, 1011, 0);
    seg(h, S, "P.", 5001, 1011, 20);
    seg(h, C, "F.", 1011, 5021, 0);
    EXPECT_ZEEK(cur(h), "ShADadF", "S2");
    seg(h, C, "R", 1012 + 10, 0, 0);
    assert_true(has_anomaly(h, ANOMALY_TCP_RST_IN_WINDOW));
    EXPECT_ZEEK(cur(h), "ShADadFR", "RSTO");
    seg(h, S, "F.", 5021, 1012, 0);
    EXPECT_ZEEK(reported(h, 1), "ShADadFRf", "SF");
}

/* Checksums are not validated (Zeek -C): a bad one is an ordinary packet, no 'C'. */
static void test_no_checksum_letter(void **state)
{
    struct trk *h = *state;
    handshake(h, 1000, 5000);
    mk(h, C, "P.", 1001, 5001, 10);
    h->p.u.tcp.cksum = CKSUM_BAD;
    feed(h);
    EXPECT_ZEEK(reported(h, 1), "ShAD", "S1");
}

/* The RSTOS0 pattern ^?S[^HAFGIQ]*R.* must match the whole history. */
static void test_rstos0_pattern(void **state)
{
    (void)state;
    assert_true(zeek_history_rstos0("SR"));
    assert_true(zeek_history_rstos0("^SR"));
    assert_true(zeek_history_rstos0("SaR"));
    assert_true(zeek_history_rstos0("SdhR"));
    assert_true(zeek_history_rstos0("SRAF"));
    assert_false(zeek_history_rstos0("SAR"));
    assert_false(zeek_history_rstos0("SFR"));
    assert_true(zeek_history_rstos0("ShR")); /* conn_state also needs an inactive responder */
    assert_false(zeek_history_rstos0("SHR"));
    assert_false(zeek_history_rstos0("SGR"));
    assert_false(zeek_history_rstos0("SIR"));
    assert_false(zeek_history_rstos0("SQR"));
    assert_false(zeek_history_rstos0("Sr"));
    assert_false(zeek_history_rstos0("R"));
    assert_false(zeek_history_rstos0("^R"));
    assert_false(zeek_history_rstos0("DSR"));
    assert_false(zeek_history_rstos0("S"));
    assert_false(zeek_history_rstos0(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_s0),
        T(test_s0_eccentric_ack),
        T(test_s1),
        T(test_sf),
        T(test_rej),
        T(test_s2),
        T(test_s3),
        T(test_rsto),
        T(test_rstr),
        T(test_rstos0),
        T(test_rstos0_after_eccentric_ack),
        T(test_oth_syn_fin_rst),
        T(test_rstrh),
        T(test_rstrh_synack),
        T(test_sh),
        T(test_sh_syn_fin),
        T(test_shr),
        T(test_oth_midstream),
        T(test_oth_lone_rst),
        T(test_sf_missing_syn),
        T(test_sf_midstream),
        T(test_a_d_once_per_direction),
        T(test_i_q_once),
        T(test_synack_repeat_same_seq),
        T(test_fin_repeat_rule),
        T(test_rst_repeat_rule),
        T(test_t_logarithmic),
        T(test_w_logarithmic),
        T(test_g_logarithmic),
        T(test_flip_on_answer),
        T(test_flip_midstream),
        T(test_rst_after_both_fins),
        T(test_rst_after_both_fins_xmpp),
        T(test_fin_rst_then_peer_fin),
        T(test_no_checksum_letter),
        T(test_rstos0_pattern),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
